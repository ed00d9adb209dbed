"""Deprecated alias: baremlp.runner moved to baremlp.runs.runner (the alias goes in 0.3)."""
import sys
import warnings

from .runs import runner as _moved

warnings.warn("baremlp.runner moved to baremlp.runs.runner: import it from there (this alias goes in 0.3)",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved  # the module itself: baremlp.runner.X is baremlp.runs.runner.X
