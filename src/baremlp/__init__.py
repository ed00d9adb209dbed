"""baremlp: a multi-layer perceptron from bare PyTorch tensor ops, trained by hand-written SGD."""
from . import analysis, datasets, ops
from .analysis import effective_map, map_error, relu_active_fraction
from .errors import UsageError
from .evaluation import evaluate
from .model import MLP
from .train import Diverged, train

__version__ = "0.1.0"
__all__ = ["MLP", "train", "evaluate", "Diverged", "UsageError", "effective_map", "map_error", "relu_active_fraction",
           "analysis", "datasets", "ops"]
