"""The data of a run, whatever its source: one `Data` type, loaded as the settings say, with the
validation split and standardization applied to it.

Sources (each a reader module): the course's data sets (datasets.py), Fashion-MNIST and CIFAR-10
(images.py), your own CSV or NPZ table (tables.py).  Shapes are batch first: x (N, features),
y (N, outputs) for regression or (N,) class indices.
"""
from dataclasses import dataclass

import torch

from . import datasets, images, tables
from .errors import UsageError


@dataclass
class Data:
    x: torch.Tensor  # (N, features) training inputs
    y: torch.Tensor  # (N, outputs) targets or (N,) class indices
    x_val: torch.Tensor = None
    y_val: torch.Tensor = None
    x_test: torch.Tensor = None
    y_test: torch.Tensor = None
    classes: list = None  # class names for classification, None for regression
    mean: torch.Tensor = None  # standardisation statistics of the training split, if used
    std: torch.Tensor = None
    inputs: list = None  # column names of a user's table, kept for predict

    @property
    def outputs(self):
        return len(self.classes) if self.classes else self.y.shape[1]


def load(s) -> Data:
    """The data set named by settings s (a baremlp.Settings), split and scaled as they ask."""
    dtype = getattr(torch, s.dtype)
    if s.data:
        train = read_table(s.data, s.target, task=s.task, dtype=dtype)
        data = Data(train.x, train.y, classes=train.classes, inputs=train.inputs)
        if s.test_data:
            test = read_table(s.test_data, s.target, task=train.task, classes=train.classes, inputs=train.inputs,
                              dtype=dtype)
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
        return tables.from_npz(path, **{k: v for k, v in kwargs.items() if k != "inputs"})
    if not target:
        raise UsageError(f"--target is missing: name the target column(s) of {path}")
    return tables.from_csv(path, target, **kwargs)


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


def standardize(data):
    """x ← (x − mean) / std per feature, with mean and std of the training split alone (no peeking)."""
    data.mean = data.x.mean(0)
    data.std = data.x.std(0, unbiased=False).clamp_min(1e-8)  # constant features (blank pixels) stay finite
    for name in ("x", "x_val", "x_test"):
        t = getattr(data, name)
        if t is not None:
            setattr(data, name, scale(t, data.mean, data.std))
    return data


def scale(x, mean, std):
    """The standardization a network was trained with, applied to new inputs (none if mean is None)."""
    return x if mean is None else (x - mean) / std


def loss_for(loss, classes):
    """The loss setting made concrete: "auto" is cross-entropy for class labels, else mse."""
    if loss != "auto":
        return loss
    return "cross-entropy" if classes else "mse"
