"""The data of a run, whatever its source: one `Data` type, loaded as the settings say, with the
validation split and standardization applied to it.

Sources (each a reader module): the course's data sets (baremlp.datasets), Fashion-MNIST and CIFAR-10
(images.py), your own CSV or NPZ table (tables.py); standardization: scaling.py.  Shapes are batch first: x (N, features),
y (N, outputs) for regression or (N,) class indices.
"""
from dataclasses import dataclass, field

import torch

from .. import datasets
from ..errors import UsageError
from . import images, tables
from .scaling import Scaling, standardize


@dataclass
class Data:
    x: torch.Tensor  # (N, features) training inputs
    y: torch.Tensor  # (N, outputs) targets or (N,) class indices
    x_val: torch.Tensor = None
    y_val: torch.Tensor = None
    x_test: torch.Tensor = None
    y_test: torch.Tensor = None
    classes: list = None  # class names for classification, None for regression
    inputs: list = None  # column names of a user's table, kept for predict
    targets: list = None  # the regression target columns' names, kept for predict and the plots
    scaling: Scaling = field(default_factory=Scaling)  # the standardization applied (none by default)

    @property
    def outputs(self):
        return len(self.classes) if self.classes else self.y.shape[1]


def load(s) -> Data:
    """The data set named by settings s (a baremlp.Settings), split and scaled as they ask."""
    dtype = getattr(torch, s.dtype)
    if s.data:
        columns = {"features": s.features, "drop": s.drop}
        train = read_table(s.data, s.target, task=s.task, dtype=dtype, **columns)
        check_learnable(train, s.data)
        data = Data(train.x, train.y, classes=train.classes, inputs=train.inputs,
                    targets=train.targets if train.classes is None else None)
        if s.test_data:
            test = read_table(s.test_data, s.target, task=train.task, classes=train.classes, inputs=train.inputs,
                              dtype=dtype, **columns)
            data.x_test, data.y_test = test.x, test.y
    elif s.dataset in datasets.BUILTIN:
        make = datasets.BUILTIN[s.dataset]
        kwargs = {"noise": s.noise} if s.dataset == "linear" else {}
        n = s.n or (2000 if s.dataset == "square" else 1000)
        x, y = make(n, seed=s.seed, dtype=dtype, **kwargs)
        x_test, y_test = make(n, seed=s.seed + 1, dtype=dtype)  # fresh samples, noise-free: how well it generalises
        data = Data(x, y, x_test=x_test, y_test=y_test, classes=["outside", "inside"] if s.dataset == "square" else None)
    else:
        data = Data(**images.load(s.dataset, s.data_dir, dtype=dtype)._asdict())
    if s.val_fraction:
        data = split_validation(data, s.val_fraction, s.seed)
    if s.standardize:
        data = standardize(data)
    return data


def read_table(path, target, task="auto", **kwargs) -> tables.Table:
    """A user's CSV or NPZ table; task "auto" lets the reader infer regression or classification."""
    kwargs["task"] = None if task == "auto" else task
    if path.endswith(".npz"):
        if kwargs.pop("features", None) or kwargs.pop("drop", None):
            raise UsageError(f"features and drop (--features, --drop) choose columns of a CSV table; {path} is an .npz: "
                             "keep only the input columns in its array x")
        return tables.from_npz(path, **{k: v for k, v in kwargs.items() if k != "inputs"})
    if not target:
        raise UsageError(f"target (--target) is missing: name the target column(s) of {path}")
    return tables.from_csv(path, target, **kwargs)


MIN_PER_CLASS = 2  # fewer training rows per class than this on average, and the classes cannot be learned


def check_learnable(table, path):
    """Refuses classification with more classes than the rows can teach (10,000 distinct measurements
    read as labels would build a 10,000-output network and learn nothing)."""
    k, n = len(table.classes or []), len(table.y)
    if k and n < MIN_PER_CLASS * k:
        raise UsageError(f"{path}: column {table.targets[0]!r} holds {k} classes in {n} rows, fewer than "
                         f"{MIN_PER_CLASS} rows per class, too few to learn them; if its values are quantities "
                         "to predict, use task 'regression' (--task regression)")


def split_validation(data, fraction, seed):
    """Holds out a random share of the training samples (chosen by seed) as validation data."""
    n = data.x.shape[0]
    n_val = max(1, round(n * fraction))
    if n_val >= n:
        raise UsageError(f"val_fraction {fraction} leaves no training samples out of {n}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val, keep = order[:n_val], order[n_val:]
    data.x_val, data.y_val, data.x, data.y = data.x[val], data.y[val], data.x[keep], data.y[keep]
    return data


def loss_for(loss, classes):
    """The loss setting made concrete: "auto" is cross-entropy for class labels, else mse."""
    if loss != "auto":
        return loss
    return "cross-entropy" if classes else "mse"
