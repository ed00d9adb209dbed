"""check.all: every check whose function a namespace defines, by name.

    forward(x, W, b, M, c)              -> check.forward
    loss(v, y)                          -> check.loss (kind="mse"; cross_entropy(v, y) -> kind="cross_entropy")
    regularization(W, M)                -> check.regularization
    gradients(x, y, W, b, M, c, lam)    -> check.gradients
    step(params, x, y, lr, lam)         -> check.step

The loss's and the regularizer's accepted conventions (a halved MSE, a halved s) change J's constant
factors, so they are passed on to gradients and step, which then expect the gradients of that J.

This runs the student's functions in this process: for a student checking their own work.  A grader's
`baremlp check FILE` judges from outside (judge.py, command.py), with run_checks as the sequence.

The module is named checkall, not all: importing a submodule baremlp.check.all would set the package's
attribute `all` to the module, replacing the function check.all that students call.
"""
import types

from baremlp.errors import UsageError

from .forward import forward
from .gradients import gradients
from .loss import loss
from .regularization import regularization
from .remote import Ended, TimedOut
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


def run_checks(found):
    """({name: Report}, {name: (status, why)}): each check on its function, in NAMES order; a check whose
    call timed out or whose process ended (judge.py: a submission in its own process) is lost, not fatal."""
    reports, lost, carried = {}, {}, []
    for name in NAMES:
        if name not in found:
            continue
        fn = found[name]
        try:
            report = (forward(fn) if name == "forward" else loss(fn, "mse") if name == "loss" else
                      loss(fn, "cross_entropy") if name == "cross_entropy" else regularization(fn)
                      if name == "regularization" else gradients(fn, carried) if name == "gradients" else step(fn, carried))
        except TimedOut as e:
            lost[name] = ("timed out", str(e))
            continue
        except Ended as e:
            lost[name] = ("raised", str(e))
            continue
        if name in ("loss", "regularization"):
            carried += [c for c in report.conventions if c in CARRIED]
        reports[name] = report
    return reports, lost


def check_all(namespace):
    """A Report with one part per function found; raises UsageError when none of NAMES is defined."""
    found = functions(namespace)
    if not found:
        raise UsageError(f"found none of {', '.join(NAMES)}: nothing to check")
    return combine(list(run_checks(found)[0].values()))
