"""`baremlp check FILE... [--json]`: each file judged from outside (judge.py), for an instructor's grading.

    status 0   every lab function passed and every rule was kept
    status 1   some check failed, a function is missing, rebound, raised or timed out, or a rule was broken
    UsageError (the CLI prints it as one line and exits with status 2): no such file, not a .py or .ipynb
               file, or (for one file) a file that defines none of the lab's functions (its JSON still printed)

With --json stdout holds exactly one JSON object: the file's result (judge.py), or for several files
{"passed", "submissions": [results]}.  --gradescope FILE and --csv FILE are written atomically.
"""
import contextlib
import io
import json
import os
from pathlib import Path

from baremlp.errors import UsageError
from baremlp.jsonsafe import json_safe

from .confine import set_dumpable
from .remote import Limits
from .report import plain


def write_atomically(path, text):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise UsageError(f"{path}: cannot write it ({e.strerror}); expected a file in a folder that exists") from None


def command(paths, as_json=False, print=print, limits=None, rubric=None, rules_off=(), gradescope=None, csv=None,
            jobs=1):
    """Judges each file (judge.check_many), prints the reports (text, or one JSON object with as_json),
    writes Gradescope's results.json and a CSV of grades when asked; returns 0 when every file passed, 1
    when not.  UsageError: no such file, a wrong kind, or one file that defines none of the functions."""
    from . import grading
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        if path.suffix not in (".py", ".ipynb"):
            raise UsageError(f"{path}: expected a Python file (.py) or a notebook (.ipynb)")
    if gradescope and len(paths) != 1:
        raise UsageError(f"--gradescope writes one submission's results, not {len(paths)}")
    marks = grading.rubric(rubric)
    before = set_dumpable(False)  # no student's process can open this one's stdout through /proc/PID/fd/1
    try:
        return judge_and_report(paths, as_json=as_json, print=print, limits=limits, marks=marks,
                                rules_off=rules_off, gradescope=gradescope, csv=csv, jobs=jobs)
    finally:
        if before:  # a caller in Python (a test) gets its process back as it was
            set_dumpable(before)


def judge_and_report(paths, *, as_json, print, limits, marks, rules_off, gradescope, csv, jobs):
    """command()'s work once its arguments are checked; returns its exit status."""
    from . import grading
    from .judge import check_many
    with contextlib.redirect_stdout(io.StringIO()):  # nothing but the report reaches stdout
        results = check_many(paths, limits or Limits(), marks, tuple(rules_off), jobs)
    reports = [r.pop("reports", {}) for r in results]
    if as_json:
        one = results[0] if len(results) == 1 else {"passed": all(r["passed"] for r in results), "submissions": results}
        print(json.dumps(json_safe(plain(one), instead=str), ensure_ascii=False, indent=2))
    else:
        for result, parts in zip(results, reports):
            print(grading.text(dict(result, reports=parts)))
    if gradescope:
        write_atomically(gradescope, json.dumps(json_safe(grading.gradescope(dict(results[0], reports=reports[0])), instead=str),
                                                ensure_ascii=False, indent=2))
    if csv:
        import csv as csv_module
        out = io.StringIO()
        csv_module.writer(out).writerows(grading.csv_rows(results, marks))
        write_atomically(csv, out.getvalue())
    if len(results) == 1 and results[0]["status"] == "usage-error":
        raise UsageError(results[0]["error"])
    return 0 if all(r["passed"] for r in results) else 1
