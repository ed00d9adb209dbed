"""`python -m baremlp.cli ...`, as `python -m baremlp ...`: the `baremlp` command."""
import sys

from . import main

sys.exit(main())
