"""Deprecated alias: baremlp.inference moved to baremlp.runs.inference (the alias goes in 0.3)."""
import sys
import warnings

from .runs import inference as _moved

warnings.warn("baremlp.inference moved to baremlp.runs.inference: import it from there (this alias goes in 0.3)",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved  # the module itself: baremlp.inference.X is baremlp.runs.inference.X
