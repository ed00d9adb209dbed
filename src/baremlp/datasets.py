"""The course's small data sets, batch first: x is (N, features), y is (N, outputs) or (N,) labels.

R = [[0, −1], [1, 0]] is the rotation by +90°; in column form y = R x, i.e.
y₁ = −x₂, y₂ = x₁.  In batch-first form the same map is Y = X Rᵀ.
"""
import torch

from .errors import UsageError

R = torch.tensor([[0.0, -1.0], [1.0, 0.0]])


def _generator(seed):
    return torch.Generator().manual_seed(seed) if seed is not None else None


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UsageError(f"n {n!r} invalid: expected a whole number of samples ≥ 1")


def linear(n=1000, *, seed=None, noise=0.0, dtype=torch.float32):
    """x ~ N(0, I₂), y = R x (+ noise · N(0, I₂)).  Returns x: (n, 2), y: (n, 2)."""
    _check_n(n)
    if not noise >= 0:
        raise UsageError(f"noise {noise!r} invalid: expected a standard deviation ≥ 0")
    g = _generator(seed)
    x = torch.randn(n, 2, generator=g, dtype=torch.float64)
    y = x @ R.double().T  # (n, 2): each row is R x
    if noise:
        y = y + noise * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return x.to(dtype), y.to(dtype)


def folded(n=1000, *, seed=None, dtype=torch.float32):
    """x ~ N(0, I₂), y = (−|x₂|, x₁): the rotation with one fold, which no linear map fits.

    Returns x: (n, 2), y: (n, 2).  Only the target is folded; the inputs stay as drawn.
    """
    _check_n(n)
    x = torch.randn(n, 2, generator=_generator(seed), dtype=torch.float64)
    y = torch.stack([-x[:, 1].abs(), x[:, 0]], dim=1)
    return x.to(dtype), y.to(dtype)


SQUARE = (2.0, 3.0, 1.0, 2.0)  # x₁ from 2 to 3, x₂ from 1 to 2: corners (2,1), (2,2), (3,2), (3,1)


def square(n=2000, *, seed=None, dtype=torch.float32):
    """x uniform in [0, 4]², label 1 inside the square with corners (2,1), (2,2), (3,2), (3,1), else 0.

    Returns x: (n, 2) and y: (n,) class indices (int64), for cross-entropy on 2 outputs.
    """
    _check_n(n)
    x = 4 * torch.rand(n, 2, generator=_generator(seed), dtype=torch.float64)
    x1_lo, x1_hi, x2_lo, x2_hi = SQUARE
    inside = (x[:, 0] >= x1_lo) & (x[:, 0] <= x1_hi) & (x[:, 1] >= x2_lo) & (x[:, 1] <= x2_hi)
    return x.to(dtype), inside.long()


BUILTIN = {"linear": linear, "folded": folded, "square": square}


def from_csv(*args, **kwargs):
    """Moved to baremlp.data.from_csv in 0.2: your own tables are not the course's data (and an alias
    importing baremlp.data here would make the two import each other)."""
    raise ImportError("baremlp.datasets.from_csv moved to baremlp.data.from_csv in 0.2: from baremlp.data import from_csv")


def from_npz(*args, **kwargs):
    """Moved to baremlp.data.from_npz in 0.2 (see from_csv)."""
    raise ImportError("baremlp.datasets.from_npz moved to baremlp.data.from_npz in 0.2: from baremlp.data import from_npz")
