#!/usr/bin/env python
"""Benchmark: `baremlp check` judging from outside the student's code (issue 26, item 8).

    .venv/bin/python bench/check.py [--repeats 5] [--submissions 40] [--jobs 2]

1. Overhead per submission: one right .py file (tests/check_gallery/lab_all_correct.py, whose own code
   runs in milliseconds) judged --repeats times by judge.check_many in this process, the zygote already
   warm: the time beyond the checks' own work is the child's fork, its load and the calls' round trips.
   It prints the time of the same five checks run in this process on the same functions (check.all, no
   isolation), and the difference.  Then one notebook (the same functions in cells): a kernel per
   submission.  Target: overhead ≤ about 1 s per .py submission.
2. --submissions mixed submissions (gallery files, right and wrong, torch and NumPy, a tenth of them
   notebooks, one that hangs in a call) judged by `baremlp check FILES -j JOBS --csv` in a process of its
   own, as an instructor runs it: the wall time, from the command to its exit, start-up included.
"""
import argparse
import json
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from baremlp import check
from baremlp.check.grading import rubric
from baremlp.check.judge import check_many
from baremlp.check.remote import Limits
from baremlp.check.spawner import warm

GALLERY = Path(__file__).resolve().parents[1] / "tests" / "check_gallery"
RIGHT = GALLERY / "lab_all_correct.py"


def notebook_of(source, path):
    """The file's text as a notebook: the imports in one cell, each function in a cell of its own."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Lab")] + [
        nbformat.v4.new_code_cell(part) for part in source.split("\n\n\n") if part.strip()]
    nbformat.write(notebook, str(path))
    return path


def overhead(repeats, folder):
    marks = rubric()
    warm()
    check_many([RIGHT], Limits(), marks)  # the zygote and this process's first calls, off the clock
    outside = []
    for _ in range(repeats):
        t = time.perf_counter()
        [result] = check_many([RIGHT], Limits(), marks)
        outside.append(time.perf_counter() - t)
        assert result["passed"], result
    namespace = runpy.run_path(str(RIGHT), run_name="bench")
    inside = []
    for _ in range(repeats):
        t = time.perf_counter()
        assert check.all(namespace).passed
        inside.append(time.perf_counter() - t)
    nb = notebook_of(RIGHT.read_text().split('\n\nif __name__')[0], folder / "right.ipynb")
    kernel = []
    for _ in range(2):  # the first also loads jupyter_client in this process
        t = time.perf_counter()
        [result] = check_many([nb], Limits(), marks)
        kernel.append(time.perf_counter() - t)
        assert result["passed"], result
    return statistics.median(outside), statistics.median(inside), kernel


def mixed(n, folder):
    """n submissions: gallery .py files in turn, every tenth a notebook, one that hangs in forward."""
    files = sorted(p for p in GALLERY.glob("*.py"))
    out = []
    for i in range(n):
        source = files[i % len(files)].read_text()
        if i == n // 2:
            source = RIGHT.read_text().replace("def forward(x, W, b, M, c):\n",
                                               "def forward(x, W, b, M, c):\n    while True:\n        pass\n")
        path = folder / f"student{i:02d}.py"
        if i % 10 == 9:
            out.append(notebook_of(source.split("\n\nif __name__")[0], path.with_suffix(".ipynb")))
        else:
            path.write_text(source)
            out.append(path)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--submissions", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        outside, inside, kernel = overhead(args.repeats, folder)
        print(f"one right .py submission, judged from outside: {outside:.3f} s (median of {args.repeats}); "
              f"the same checks in this process: {inside:.3f} s; overhead {outside - inside:.3f} s")
        print(f"one right notebook (a kernel of its own, which imports torch as the student's first cell would): "
              f"{kernel[1]:.2f} s ({kernel[0]:.2f} s the first time, loading jupyter_client here)")
        paths = mixed(args.submissions, folder)
        grades = folder / "grades.csv"
        t = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "baremlp", "check", *map(str, paths), "-j", str(args.jobs),
                              "--timeout", "2", "--csv", str(grades), "--json"], capture_output=True, text=True)
        wall = time.perf_counter() - t
        results = json.loads(run.stdout)["submissions"]
        statuses = [r["status"] for r in results]
        notebooks = sum(p.suffix == ".ipynb" for p in paths)
        print(f"{len(paths)} mixed submissions ({notebooks} notebooks, one hanging in a call, --timeout 2; most gallery "
              f"files define one function, so the others count as missing), "
              f"-j {args.jobs}: {wall:.1f} s wall, {wall / len(paths):.2f} s each; exit {run.returncode}; "
              f"{statuses.count('passed')} passed, {statuses.count('failed')} failed, "
              f"{len(statuses) - statuses.count('passed') - statuses.count('failed')} other; "
              f"{len(grades.read_text().splitlines()) - 1} CSV rows")


if __name__ == "__main__":
    main()
