"""nbgrader with the real engine, in a fresh course folder as `baremlp assignment` writes it:
generate_assignment, then autograde a right and a wrong submission, then export, with the scores as
expected.  nbgrader calls `alembic` by name, so the subprocesses get this Python's bin folder first on PATH.
Needs the grading extra (make setup installs it)."""
import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from baremlp.handout import QUESTIONS, notebooks, write

BIN = Path(sys.executable).parent
if importlib.util.find_spec("nbgrader") is None or not (BIN / "nbgrader").exists() or not (BIN / "alembic").exists():
    pytest.skip("nbgrader (and alembic) are not installed beside this Python (pip install 'baremlp[grading]')",
                allow_module_level=True)

AUTOGRADED = sum(q.points for q in QUESTIONS if not q.manual)  # 15; the written answers wait for a person
TOTAL = sum(q.points for q in QUESTIONS)
NO_BIAS = """
def forward(x, W, b, M, c):
    u = x @ W.T                  # b left out
    return torch.relu(u) @ M.T + c
"""


def nbgrader(*args, cwd):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs `alembic`
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def course(tmp_path, submissions):
    """A fresh course folder: the assignment generated, each {student: replace} submission filled in."""
    write(tmp_path / "lab")
    root = tmp_path / "lab" / "nbgrader"
    nbgrader("generate_assignment", "lab3", cwd=root)
    released = json.loads((root / "release" / "lab3" / "lab3.ipynb").read_text(encoding="utf-8"))
    for student, replace in submissions.items():
        folder = root / "submitted" / student / "lab3"
        folder.mkdir(parents=True)
        nb = released if replace is None else notebooks.fill(released, **replace)
        (folder / "lab3.ipynb").write_text(notebooks.dumps(nb), encoding="utf-8")
    nbgrader("autograde", "lab3", "--create", cwd=root)
    nbgrader("export", cwd=root)
    with open(root / "grades.csv", newline="") as f:
        return root, {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(f)}


def test_nbgrader_generates_autogrades_and_exports_a_right_and_a_wrong_submission(tmp_path):
    root, grades = course(tmp_path, {"right": {}, "wrong": {"forward": NO_BIAS}})
    assert grades["right"] == (AUTOGRADED, TOTAL)
    # forward's 2 points, and the 2 + 2 of the step and the training that run through it: with b left out,
    # b.grad stays None and the step's `lr * p.grad` raises
    assert grades["wrong"] == (AUTOGRADED - 6, TOTAL)
    graded = json.loads((root / "autograded" / "wrong" / "lab3" / "lab3.ipynb").read_text(encoding="utf-8"))
    test = next(c for c in graded["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "forward-test0")
    assert "no-bias" in "".join("".join(o.get("traceback", [])) + o.get("evalue", "") for o in test["outputs"])


@pytest.mark.slow
def test_nbgrader_released_notebook_keeps_the_stubs_and_a_blank_submission_scores_the_rules_alone(tmp_path):
    root, grades = course(tmp_path, {"blank": None})
    assert grades["blank"] == (1.0, TOTAL)  # only the rules hold for a notebook with nothing written
    released = json.loads((root / "release" / "lab3" / "lab3.ipynb").read_text(encoding="utf-8"))
    answers = [c["source"] for c in released["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    assert all("BEGIN SOLUTION" not in "".join(a) for a in answers)
    assert any("raise NotImplementedError()" in "".join(a) for a in answers)
