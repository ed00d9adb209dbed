"""`python -m baremlp ...` is the `baremlp` command: what torchrun starts with `-m baremlp`."""
import sys

from .cli import main

sys.exit(main())
