"""baremlp: a multi-layer perceptron from bare PyTorch tensor ops, trained by hand-written SGD.

    from baremlp import MLP, train, datasets

Its names load at their first use (PEP 562): `import baremlp` itself imports nothing heavy, so that
the `baremlp` command (baremlp.cli.main) is running, and answers a Ctrl-C in one line, during the
seconds that torch takes to load.
"""
import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING

__version__ = "0.2.0"  # the one place of the version: pyproject.toml reads it from here
HOME = {"MLP": "model", "train": "train", "evaluate": "evaluation", "Diverged": "bookkeeping", "UsageError": "errors",
        "effective_map": "analysis", "map_error": "analysis", "relu_active_fraction": "analysis"}  # name -> module
__all__ = ["MLP", "train", "evaluate", "Diverged", "UsageError", "effective_map", "map_error", "relu_active_fraction",
           "analysis", "datasets", "ops"]

if TYPE_CHECKING:  # what __getattr__ loads at first use, spelled out for editors and type checkers
    from . import analysis, datasets, ops
    from .analysis import effective_map, map_error, relu_active_fraction
    from .bookkeeping import Diverged
    from .errors import UsageError
    from .evaluation import evaluate
    from .model import MLP
    from .train import train


def __getattr__(name):
    """A name of __all__ from its module, or a submodule (baremlp.model, ...), imported now."""
    if name in HOME:
        value = getattr(importlib.import_module(f"{__name__}.{HOME[name]}"), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    setattr(sys.modules[__name__], name, value)
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


class Package(types.ModuleType):
    def __setattr__(self, name, value):
        # importing the submodule baremlp.train binds it here as `train`: the name stays the function
        if name in HOME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = Package
