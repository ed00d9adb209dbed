"""The data of a run: what the settings name, read, split and scaled.

    loading.py   Data (train, validation, test splits; classes; scaling) and load(settings)
    scaling.py   Scaling: the standardization a network was trained with, and its inverse
    tables.py    your own CSV or NPZ table, with one-line errors naming file, row and column
    images.py    Fashion-MNIST (IDX files) and CIFAR-10 (binary version)

The course's own data sets (linear, folded, square) are baremlp.datasets, read by learners first.
"""
from . import tables
from .loading import Data, load, loss_for, read_table
from .scaling import Scaling

__all__ = ["Data", "Scaling", "load", "loss_for", "read_table", "from_csv", "from_npz", "tables"]


def from_csv(path, target, **kwargs):
    """Your own CSV table (a header row; target: the target column name(s)) as (x, y) ready for train.
    baremlp.data.tables.from_csv returns the column names, task and class names as well."""
    table = tables.from_csv(path, target, **kwargs)
    return table.x, table.y


def from_npz(path, **kwargs):
    """Your own .npz file with arrays x (N, features) and y as (x, y) ready for train."""
    table = tables.from_npz(path, **kwargs)
    return table.x, table.y
