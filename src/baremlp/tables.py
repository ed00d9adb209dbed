"""Deprecated alias: baremlp.tables moved to baremlp.data.tables (the alias goes in 0.3)."""
import sys
import warnings

from .data import tables as _moved

warnings.warn("baremlp.tables moved to baremlp.data.tables: import it from there (this alias goes in 0.3)",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved  # the module itself: baremlp.tables.X is baremlp.data.tables.X
