"""otter-grader with the real engine: `otter assign` on the master that `baremlp assignment` writes, then
`otter run` on a right and a wrong submission, with the scores as expected and the checker's report (the
mistake's code) in the failing test's output.  Needs the grading extra (make setup installs it)."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from baremlp.handout import QUESTIONS, notebooks, write

OTTER = Path(sys.executable).parent / "otter"
if importlib.util.find_spec("otter") is None or not OTTER.exists():  # found, not imported: otter loads in seconds
    pytest.skip("the otter command is not installed beside this Python (pip install 'baremlp[grading]')",
                allow_module_level=True)

AUTOGRADED = sum(q.points for q in QUESTIONS if not q.manual)  # 15
HALF_GRADIENT = """
def gradients(x, y, W, b, M, c, lam):
    X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
    U = X @ W.T + b
    H = torch.relu(U)
    dV = (H @ M.T + c - Y) / len(X)          # the 2 of the derivation left out
    dU = (dV @ M) * (U > 0)
    return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0), "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}
"""


def otter(*args, cwd):
    done = subprocess.run([str(OTTER), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def assign(tmp_path, *flags):
    write(tmp_path / "lab")
    folder = tmp_path / "lab" / "otter"
    otter("assign", "lab3.ipynb", "dist", *flags, cwd=folder)
    zips = list((folder / "dist" / "autograder").glob("*.zip"))
    assert len(zips) == 1
    return folder, zips[0]


def grade(folder, autograder, submissions):
    """{name: (scores by question, the tests' output)} for {name: notebook}, each graded by its own
    `otter run`, all at once (one process a submission, as Gradescope runs them)."""
    running = {}
    for name, nb in submissions.items():
        (folder / f"{name}.ipynb").write_text(notebooks.dumps(nb), encoding="utf-8")
        (folder / name).mkdir()
        running[name] = subprocess.Popen([str(OTTER), "run", "-a", str(autograder), f"{name}.ipynb", "-o", name],
                                         cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    graded = {}
    for name, process in running.items():
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0, out[-3000:]
        tests = json.loads((folder / name / "results.json").read_text(encoding="utf-8"))["tests"]
        graded[name] = ({t["name"]: t["score"] for t in tests if t.get("score") is not None},
                        "".join(t.get("output", "") for t in tests))
    return graded


def test_otter_assigns_and_grades_a_right_and_a_wrong_submission(tmp_path):
    folder, autograder = assign(tmp_path, "--no-run-tests")  # the slow test runs the master's own tests
    graded = grade(folder, autograder, {"right": notebooks.solved(),
                                        "wrong": notebooks.solved(gradients=HALF_GRADIENT)})
    scores, _ = graded["right"]
    assert sum(scores.values()) == AUTOGRADED, scores
    scores, output = graded["wrong"]
    assert scores["gradients"] == 0 and sum(scores.values()) == AUTOGRADED - 3, scores
    assert "grad-factor-2" in output and "delta_v = 2 * (v - y)" in output  # the checker's report: code and fix


@pytest.mark.slow
def test_otter_assign_runs_the_master_against_its_tests_and_its_student_notebook_runs(tmp_path):
    folder, autograder = assign(tmp_path)  # run_tests: the solutions must pass every test
    import zipfile
    with zipfile.ZipFile(autograder) as z:
        environment = z.read("environment.yml").decode()  # otter puts requirements.txt's lines under pip:
    assert "torch==2.13.0" in environment and "baremlp==" in environment and "whl/cpu" in environment
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    student = nbformat.read(folder / "dist" / "student" / "lab3.ipynb", as_version=4)
    nbclient.NotebookClient(student, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder / "dist" / "student")}}).execute()
    said = "".join(o.get("text", "") for c in student.cells if c.cell_type == "code" for o in c.outputs)
    assert "forward: not written yet" in said and "training: not written yet" in said


@pytest.mark.slow
def test_otter_takes_the_rules_point_from_a_torch_nn_submission_and_grades_a_blank_one(tmp_path):
    folder, autograder = assign(tmp_path, "--no-run-tests")
    nn = notebooks.solved(forward="""
    import torch.nn.functional as F
    def forward(x, W, b, M, c):
        return F.relu(x @ W.T + b) @ M.T + c
    """)
    graded = grade(folder, autograder, {"nn": nn, "blank": notebooks.starter()})
    scores, output = graded["nn"]
    assert scores["rules"] == 0 and sum(scores.values()) == AUTOGRADED - 1, scores
    assert "torch.nn.functional" in output
    scores, _ = graded["blank"]
    assert sum(scores.values()) == 1, scores  # only the rules hold for a notebook with nothing written
