"""Argument checks shared by the Python API and the CLI: each failure is one sentence that
names the value and says what is expected (UsageError for bad values, UsageTypeError for wrong types)."""
import math
import numbers

import torch


class UsageError(ValueError):
    """A value the user gave is wrong: a setting, an argument, a file, a table.  The message names
    the value and says what is expected; the CLI prints it as one line and exits with status 2.
    Any other exception is a failure while running (status 1), not the user's mistake."""


class UsageTypeError(UsageError, TypeError):
    """A value of the wrong type (a TypeError too, like Python's own type checks)."""


def number(name, value, *, low=None, high=None, low_open=False, high_open=False, whole=False):
    """Checks that value is a finite real (a whole number if whole) within [low, high]; returns it."""
    kind = "a whole number" if whole else "a finite number"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral if whole else numbers.Real):
        raise UsageTypeError(f"{name} {value!r} invalid: expected {kind}")
    if not math.isfinite(value):
        raise UsageError(f"{name} {value!r} invalid: expected {kind}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if low_open else '≥'} {low:g}")
        if high is not None:
            bounds.append(f"{'<' if high_open else '≤'} {high:g}")
        raise UsageError(f"{name} {value!r} invalid: expected {kind} {' and '.join(bounds)}")
    return value


def check_hyper(*, lr, epochs, batch_size, reg, reg_epochs=None, momentum=0.0, patience=0):
    """The rules for train()'s numbers, shared by train() and Settings so that both word them alike."""
    number("lr", lr, low=0, low_open=True)
    number("epochs", epochs, low=1, whole=True)
    number("batch_size", batch_size, low=1, whole=True)
    number("reg", reg, low=0)
    number("momentum", momentum, low=0, high=1, high_open=True)
    number("patience", patience, low=0, whole=True)
    if reg_epochs is not None:
        number("reg_epochs", reg_epochs, low=0, whole=True)


def check_network(sizes, init, init_scale, inits):
    """The rules for MLP's arguments: sizes a list of whole layer sizes, at least two and each ≥ 1; init
    one of inits; init_scale a finite number > 0.  Returns sizes as a list of ints."""
    whole = lambda s: isinstance(s, numbers.Integral) and not isinstance(s, bool)  # noqa: E731
    listed = list(sizes) if hasattr(sizes, "__iter__") and not isinstance(sizes, (str, bytes)) else None
    if listed is None or not all(map(whole, listed)):
        raise UsageTypeError(f"sizes {sizes!r} invalid: expected a list of whole layer sizes, e.g. MLP([2, 3, 2])")
    sizes = [int(s) for s in listed]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise UsageError(f"sizes {sizes} invalid: expected at least two layer sizes, each ≥ 1")
    if init not in inits:
        raise UsageError(f"init {init!r} unknown: expected one of {', '.join(inits)}")
    if not (math.isfinite(init_scale) and init_scale > 0):
        raise UsageError(f"init_scale {init_scale} invalid: expected a finite number > 0")
    return sizes


def check_data(net, x, y):
    """Checks x: (N, fan_in) and y: (N, fan_out) targets or (N,) class indices against the network;
    returns both on the network's device, x in its dtype (y too, unless it holds labels).

    Finiteness is tested on the sum first: one reduction instead of a mask the size of the data
    (a fifth of an epoch on Fashion-MNIST); only a non-finite sum (NaN, inf, or an overflow of
    large finite values) pays for the element-wise check."""
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, torch.Tensor):
            raise UsageTypeError(f"{name} of type {type(t).__name__} invalid: expected a torch.Tensor")
        if t.requires_grad:  # SGD would backpropagate into the data and keep a graph per step
            raise UsageError(f"{name} requires grad: data is not a parameter, pass {name}.detach()")
    fan_in, fan_out = net.sizes[0], net.sizes[-1]
    if x.dim() != 2 or x.shape[1] != fan_in:
        raise UsageError(f"x of shape {tuple(x.shape)} invalid: the network expects (N, {fan_in})")
    if x.shape[0] == 0:
        raise UsageError("x holds no samples: expected at least one row")
    if y.shape[0] != x.shape[0]:
        raise UsageError(f"x has {x.shape[0]} samples but y has {y.shape[0]}: expected the same number")
    if not x.dtype.is_floating_point or not (torch.isfinite(x.sum()) or torch.isfinite(x).all()):
        raise UsageError("x holds NaN, infinite or non-real values: expected finite numbers")
    if y.dtype.is_floating_point:
        if y.dim() != 2 or y.shape[1] != fan_out:
            raise UsageError(f"y of shape {tuple(y.shape)} invalid: the network's outputs are (N, {fan_out})")
        if not (torch.isfinite(y.sum()) or torch.isfinite(y).all()):
            raise UsageError("y holds NaN or infinite values: expected finite numbers")
        y = y.to(net.device, net.dtype)
    else:
        if y.dim() != 1:
            raise UsageError(f"class labels y of shape {tuple(y.shape)} invalid: expected (N,)")
        if y.min() < 0 or y.max() >= fan_out:
            raise UsageError(f"class labels from {int(y.min())} to {int(y.max())} invalid: "
                             f"the network has {fan_out} outputs, so expected labels 0 to {fan_out - 1}")
        y = y.to(net.device, torch.long)
    return x.to(net.device, net.dtype), y


def check_fit(loss, y):
    """Refuses a loss that cannot fit the targets y, before any training: mse needs real-valued
    targets (N, outputs); cross-entropy needs class indices (N,) of an integer dtype, or rows of
    class probabilities (N, K).  A loss object of your own is not checked."""
    if not isinstance(loss, str) or not isinstance(y, torch.Tensor):
        return
    if loss == "mse" and not y.dtype.is_floating_point:
        raise UsageError(f"loss 'mse' does not fit class labels (y of dtype {y.dtype}): use loss 'cross-entropy' "
                         "(--loss cross-entropy), or real-valued targets for regression (--task regression)")
    if loss == "cross-entropy" and y.dtype.is_floating_point:
        if y.dim() == 1:
            raise UsageError(f"cross-entropy needs class indices of an integer dtype, but y is {y.dtype}: "
                             "pass y.long() if it holds class numbers, or use loss 'mse' for real-valued targets")
        if not (y.dim() == 2 and (y >= 0).all() and torch.allclose(y.sum(1), torch.ones_like(y[:, 0]), atol=1e-4)):
            raise UsageError(f"loss 'cross-entropy' does not fit real-valued targets (y of dtype {y.dtype}, "
                             f"shape {tuple(y.shape)}): use loss 'mse' (--loss mse), or class labels for "
                             "classification (--task classification)")
