"""Deprecated alias: baremlp.population moved to baremlp.studies.population (the alias goes in 0.3)."""
import sys
import warnings

from .studies import population as _moved

warnings.warn("baremlp.population moved to baremlp.studies.population: import it from there (this alias goes in 0.3)",
              DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved  # the module itself: baremlp.population.X is baremlp.studies.population.X
