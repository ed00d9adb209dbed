"""Deprecated alias: baremlp.settings moved to baremlp.runs.settings (the alias goes in 0.3)."""
import sys
import warnings

from .runs import settings as _moved

warnings.warn("baremlp.settings moved to baremlp.runs.settings: import it from there (this alias goes in 0.3)",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved  # the module itself: baremlp.settings.X is baremlp.runs.settings.X
