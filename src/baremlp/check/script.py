"""`baremlp check FILE.py [--json]`: check.all on a student's script, for an instructor's grading.

    status 0   every function found passed
    status 1   some check failed, or the file raised while it was run
    UsageError (the CLI prints it as one line and exits with status 2): no such file, not a .py file,
               or a file that defines none of forward, loss, regularization, gradients, step

The file runs as a module named "__baremlp_check__", so its `if __name__ == "__main__":` block (a
training run, say) does not; what it prints while loaded and checked is kept out of the report.
"""
import contextlib
import io
import json
import math
import os
import runpy
import sys
from pathlib import Path

from baremlp.errors import UsageError

from .calls import one_line
from .report import plain
from .suite import NAMES, check_all, functions


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
