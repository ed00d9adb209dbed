"""Standardization, as one object: the statistics a network was trained with, kept with its
checkpoint so that new inputs are scaled the same way and outputs come back in the data's units.

    inputs:   x ← (x − x_mean) / x_std          per column, training split's statistics
    targets:  y ← (y − y_mean) / y_std          regression only (class labels are not scaled)
    outputs:  v ← v · y_std + y_mean            the network's outputs back in the data's units

Each pair may be None: then that side is left as it is.
"""
import warnings
from dataclasses import dataclass

import torch

from ..errors import UsageError

NAMES = {"x_mean": "mean", "x_std": "std", "y_mean": "y_mean", "y_std": "y_std"}  # field -> checkpoint tensor name


@dataclass
class Scaling:
    x_mean: torch.Tensor = None  # (features,)
    x_std: torch.Tensor = None   # (features,)
    y_mean: torch.Tensor = None  # (outputs,)
    y_std: torch.Tensor = None   # (outputs,)

    @property
    def scales_inputs(self):
        return self.x_mean is not None

    @property
    def scales_targets(self):
        return self.y_mean is not None

    def inputs(self, x):
        """x (N, features) as the network saw its inputs."""
        return x if self.x_mean is None else (x - self.x_mean.to(x)) / self.x_std.to(x)

    def targets(self, y):
        """Regression targets y (N, outputs) on the scale the network was trained on."""
        return y if self.y_mean is None else (y - self.y_mean.to(y)) / self.y_std.to(y)

    def outputs(self, v):
        """Outputs v (N, outputs) of a network trained on standardized targets, in the data's units."""
        return v if self.y_mean is None else v * self.y_std.to(v) + self.y_mean.to(v)

    def tensors(self):
        """The statistics under the names a checkpoint keeps them by (mean, std, y_mean, y_std)."""
        return {NAMES[k]: t for k, t in vars(self).items() if t is not None}

    @classmethod
    def from_tensors(cls, tensors):
        """The Scaling a checkpoint's tensors hold (none of them: no scaling)."""
        return cls(**{k: tensors.get(name) for k, name in NAMES.items()})


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
        warnings.warn(f"standardize: {kind} column(s) {', '.join(map(label, constant))} are constant in the "
                      "training split, so they become 0: they carry no information (leave them out: drop, --drop)")
    std[constant] = 1.0
    mean, std = mean.to(t.dtype), std.to(t.dtype)
    bad = (~(torch.isfinite(mean) & torch.isfinite(std))).nonzero().flatten().tolist()
    if bad:
        raise UsageError(f"standardize: {kind} column {label(bad[0])} is too large to scale in {t.dtype} (values up "
                         f"to {t[:, bad[0]].abs().max().item():.3g}): divide it by a power of ten, or drop it (--drop)")
    return mean, std


def standardize(data):
    """Scales data's splits in place with the training split's statistics alone (no peeking at
    validation or test data): inputs always, targets for regression, where values in the hundreds
    would make huge SGD steps.  Returns data, its .scaling set."""
    x_mean, x_std = column_statistics(data.x, data.inputs, "input")
    data.scaling = Scaling(x_mean, x_std)
    if data.classes is None and data.y.dtype.is_floating_point:
        data.scaling.y_mean, data.scaling.y_std = column_statistics(data.y, data.targets, "target")
    for name in ("x", "x_val", "x_test"):
        if getattr(data, name) is not None:
            setattr(data, name, data.scaling.inputs(getattr(data, name)))
    for name in ("y", "y_val", "y_test"):
        if getattr(data, name) is not None:
            setattr(data, name, data.scaling.targets(getattr(data, name)))
    return data


def keep_raw_targets(data):
    """Undoes the targets' standardization, for a run begun by a version that scaled inputs only."""
    for name in ("y", "y_val", "y_test"):
        if getattr(data, name) is not None:
            setattr(data, name, data.scaling.outputs(getattr(data, name)))
    data.scaling.y_mean = data.scaling.y_std = None
    return data
