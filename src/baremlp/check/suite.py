"""check.all(namespace): every check whose function the namespace defines, by name.

    forward(x, W, b, M, c)              -> check.forward
    loss(v, y)                          -> check.loss (kind="mse"; cross_entropy(v, y) -> kind="cross_entropy")
    regularization(W, M)                -> check.regularization
    gradients(x, y, W, b, M, c, lam)    -> check.gradients
    step(params, x, y, lr, lam)         -> check.step

The loss's and the regularizer's accepted conventions (a halved MSE, a halved s) change J's constant
factors, so they are passed on to gradients and step, which then expect the gradients of that J.
"""
import types

from baremlp.errors import UsageError

from .forward import forward
from .gradients import gradients
from .loss import loss
from .regularization import regularization
from .report import combine
from .step import step

NAMES = ("forward", "loss", "cross_entropy", "regularization", "gradients", "step")
CARRIED = ("half-mse", "mse-mean-over-outputs", "half-reg")  # conventions that change J's factors


def functions(namespace):
    """{name: callable} for the names of NAMES the namespace defines as functions (a module, a dict such
    as globals(), or any object with attributes)."""
    if isinstance(namespace, dict):
        get = namespace.get
    elif isinstance(namespace, (types.ModuleType, types.SimpleNamespace)) or hasattr(namespace, "__dict__"):
        get = lambda name: getattr(namespace, name, None)  # noqa: E731
    else:
        raise UsageError(f"check.all needs a module, a dict or a namespace, not {type(namespace).__name__}")
    return {name: get(name) for name in NAMES if callable(get(name))}


def check_all(namespace):
    """A Report with one part per function found; raises UsageError when none of NAMES is defined."""
    found = functions(namespace)
    if not found:
        raise UsageError(f"found none of {', '.join(NAMES)}: nothing to check")
    parts, carried = [], []
    if "forward" in found:
        parts.append(forward(found["forward"]))
    if "loss" in found:
        parts.append(loss(found["loss"], "mse"))
        carried += [c for c in parts[-1].conventions if c in CARRIED]
    if "cross_entropy" in found:
        parts.append(loss(found["cross_entropy"], "cross_entropy"))
    if "regularization" in found:
        parts.append(regularization(found["regularization"]))
        carried += [c for c in parts[-1].conventions if c in CARRIED]
    if "gradients" in found:
        parts.append(gradients(found["gradients"], carried))
    if "step" in found:
        parts.append(step(found["step"], carried))
    return combine(parts)
