"""The data of a run, whatever its source: one `Data` type, loaded as the settings say, with the
validation split and standardization applied to it.

Sources (each a reader module): the course's data sets (datasets.py), Fashion-MNIST and CIFAR-10
(images.py), your own CSV or NPZ table (tables.py).  Shapes are batch first: x (N, features),
y (N, outputs) for regression or (N,) class indices.
"""
import warnings
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
    mean: torch.Tensor = None  # standardisation statistics of the training split's inputs, if used
    std: torch.Tensor = None
    inputs: list = None  # column names of a user's table, kept for predict
    targets: list = None  # the regression target columns' names, kept for predict and the plots
    y_mean: torch.Tensor = None  # standardisation statistics of the training split's regression targets
    y_std: torch.Tensor = None

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
            raise UsageError(f"--features and --drop choose columns of a CSV table; {path} is an .npz: "
                             "keep only the input columns in its array x")
        return tables.from_npz(path, **{k: v for k, v in kwargs.items() if k != "inputs"})
    if not target:
        raise UsageError(f"--target is missing: name the target column(s) of {path}")
    return tables.from_csv(path, target, **kwargs)


MIN_PER_CLASS = 2  # fewer training rows per class than this on average, and the classes cannot be learned


def check_learnable(table, path):
    """Refuses classification with more classes than the rows can teach (10,000 distinct measurements
    read as labels would build a 10,000-output network and learn nothing)."""
    k, n = len(table.classes or []), len(table.y)
    if k and n < MIN_PER_CLASS * k:
        raise UsageError(f"{path}: column {table.targets[0]!r} holds {k} classes in {n} rows, fewer than "
                         f"{MIN_PER_CLASS} rows per class, too few to learn them; if its values are quantities "
                         "to predict, use --task regression")


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
    """x ← (x − mean) / std per feature, and for regression y ← (y − mean_y) / std_y per target, with
    the statistics of the training split alone (no peeking at validation or test data)."""
    data.mean, data.std = column_statistics(data.x, data.inputs, "input")
    rescale(data, ("x", "x_val", "x_test"), scale, data.mean, data.std)
    if data.classes is None and data.y.dtype.is_floating_point:  # targets in the hundreds make huge steps
        data.y_mean, data.y_std = column_statistics(data.y, data.targets, "target")
        rescale(data, ("y", "y_val", "y_test"), scale, data.y_mean, data.y_std)
    return data


def keep_raw_targets(data):
    """Undoes the targets' standardization, for a run begun by a version that scaled inputs only."""
    rescale(data, ("y", "y_val", "y_test"), unscale, data.y_mean, data.y_std)
    data.y_mean = data.y_std = None
    return data


def rescale(data, splits, how, mean, std):
    """Applies how(t, mean, std) (scale or unscale) to each of the named splits that data has."""
    for name in splits:
        if getattr(data, name) is not None:
            setattr(data, name, how(getattr(data, name), mean, std))


def column_statistics(t, names, kind, rows=4096):
    """(mean, std) of every column of t: (N, columns), accumulated in float64 a block of rows at a
    time: in float32 the sum of 100,000 values of 3e37 is inf, and a float64 copy of Fashion-MNIST
    would take 376 MB.  A constant column keeps std 1 (it becomes 0s), named in a warning where it
    has a name; a column still too large (float64 beyond 1e154) is refused by name."""
    mean = t.sum(0, dtype=torch.float64) / t.shape[0]  # (columns,)
    std = (sum(((b.double() - mean) ** 2).sum(0) for b in t.split(rows)) / t.shape[0]).sqrt()  # (columns,)
    label = lambda j: repr(names[j]) if names else str(j)  # noqa: E731
    constant = (std == 0).nonzero().flatten().tolist()
    if names and constant:
        warnings.warn(f"--standardize: {kind} column(s) {', '.join(map(label, constant))} are constant in the "
                      "training split, so they become 0: they carry no information (--drop them)")
    std[constant] = 1.0
    mean, std = mean.to(t.dtype), std.to(t.dtype)
    bad = (~(torch.isfinite(mean) & torch.isfinite(std))).nonzero().flatten().tolist()
    if bad:
        raise UsageError(f"--standardize: {kind} column {label(bad[0])} is too large to scale in {t.dtype} (values up "
                         f"to {t[:, bad[0]].abs().max().item():.3g}): divide it by a power of ten, or --drop it")
    return mean, std


def scale(x, mean, std):
    """The standardization a network was trained with, applied to new inputs (none if mean is None)."""
    return x if mean is None else (x - mean) / std


def unscale(v, mean, std):
    """Outputs of a network trained on standardized targets, back in the data's units (v if mean is None)."""
    return v if mean is None else v * std + mean


def loss_for(loss, classes):
    """The loss setting made concrete: "auto" is cross-entropy for class labels, else mse."""
    if loss != "auto":
        return loss
    return "cross-entropy" if classes else "mse"
