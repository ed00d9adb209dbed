"""check.all and `baremlp check FILE`: every check whose function a namespace (or a student's file) defines.

    forward(x, W, b, M, c)              -> check.forward
    loss(v, y)                          -> check.loss (kind="mse"; cross_entropy(v, y) -> kind="cross_entropy")
    regularization(W, M)                -> check.regularization
    gradients(x, y, W, b, M, c, lam)    -> check.gradients
    step(params, x, y, lr, lam)         -> check.step

The loss's and the regularizer's accepted conventions (a halved MSE, a halved s) change J's constant
factors, so they are passed on to gradients and step, which then expect the gradients of that J.

`baremlp check FILE.py [--json]` (command) is check.all on a student's script, for an instructor's grading:
    status 0   every function found passed
    status 1   some check failed, or the file raised while it was run
    UsageError (the CLI prints it as one line and exits with status 2): no such file, not a .py file,
               or a file that defines none of forward, loss, regularization, gradients, step
The file runs as a module named "__baremlp_check__", so its `if __name__ == "__main__":` block (a
training run, say) does not; what it prints while loaded and checked is kept out of the report.

The module is named checkall, not all: importing a submodule baremlp.check.all would set the package's
attribute `all` to the module, replacing the function check.all that students call.
"""
import contextlib
import io
import json
import math
import os
import runpy
import sys
import types
from pathlib import Path

from baremlp.errors import UsageError

from .calls import one_line
from .forward import forward
from .gradients import gradients
from .loss import loss
from .regularization import regularization
from .report import combine, plain
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


def load(path):
    """The namespace the student's file defines, or raises UsageError (no such file) / RuntimeError (it raised)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if path.suffix != ".py":
        raise UsageError(f"{path}: expected a Python file (.py)")
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # so that the student's own imports next to the file resolve
    os.environ.setdefault("MPLBACKEND", "Agg")  # a plt.show() in the script must not open a window
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return runpy.run_path(str(path), run_name="__baremlp_check__")
    except BaseException as e:  # SystemExit, a syntax error, anything the student's top level raises
        if isinstance(e, KeyboardInterrupt):
            raise
        raise RuntimeError(f"{path} raised while it was run: {one_line(e)}") from None
    finally:
        sys.path.remove(folder)


def finite(value):
    """NaN and infinities as strings, so that the JSON is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def command(path, as_json=False, print=print):
    """Runs the checks on the file and prints the report (text, or JSON with as_json); returns 0 when all
    passed, 1 when not.  Raises UsageError for a missing file or one with nothing to check."""
    try:
        namespace = load(path)
    except RuntimeError as e:
        if as_json:
            print(json.dumps({"file": str(path), "passed": False, "error": str(e)}, ensure_ascii=False, indent=2))
        else:
            print(f"error: {e}")
        return 1
    if not functions(namespace):
        raise UsageError(f"{path} defines none of {', '.join(NAMES)}: nothing to check")
    with contextlib.redirect_stdout(io.StringIO()):
        report = check_all(namespace)
    if as_json:
        print(json.dumps(finite(plain({"file": str(path), **report.to_dict()})), ensure_ascii=False, indent=2))
    else:
        print(f"{path}:")
        print(str(report))
    return 0 if report.passed else 1
