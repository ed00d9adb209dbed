"""`baremlp assignment DIR`: the starter runs top to bottom as handed out (every self-check says "not written
yet"), and filled in with the lab's solution it trains to W·M ≈ R and passes the checker, in the notebook
(check.all) and as the exported .py (`baremlp check`).  The graders' notebooks carry their engines' marks."""
import ast
import json
import re

import pytest

from baremlp.cli import main
from baremlp.handout import NAME, QUESTIONS, notebooks, torch_nn_used, write

SIGNATURES = {"forward": "x, W, b, M, c", "loss": "v, y", "regularization": "W, M", "cross_entropy": "v, y",
              "gradients": "x, y, W, b, M, c, lam", "step": "params, x, y, lr, lam"}  # docs/check.md's


def code_of(nb):
    return "\n\n".join(c["source"] for c in nb["cells"] if c["cell_type"] == "code")


def execute(nb, folder):
    """Runs the notebook in a fresh kernel; returns each code cell's printed text (an error fails the test)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    node = nbformat.from_dict(nb)
    nbclient.NotebookClient(node, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return ["".join(o.get("text", "") for o in c.outputs) for c in node.cells if c.cell_type == "code"]


def test_the_command_writes_the_four_files_and_refuses_a_folder_in_use(tmp_path, capsys):
    out = tmp_path / "lab"
    assert main(["assignment", str(out)]) == 0
    for path in ("student/lab3.ipynb", "otter/lab3.ipynb", "otter/requirements.txt",
                 "nbgrader/source/lab3/lab3.ipynb", "nbgrader/nbgrader_config.py", "README.md"):
        assert (out / path).is_file(), path
    assert "README.md" in capsys.readouterr().out
    for path in out.rglob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        pytest.importorskip("nbformat").validate(nb)
    assert main(["assignment", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["assignment", str(out), "--overwrite"]) == 0
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "otter assign" in readme and "nbgrader autograde" in readme and "alembic" in readme and "PATH" in readme


def test_the_starter_has_the_checkers_signatures_todos_and_the_labs_words():
    nb = notebooks.starter()
    tree = ast.parse(code_of(nb))
    defs = {f.name: ", ".join(a.arg for a in f.args.args) for f in tree.body if isinstance(f, ast.FunctionDef)}
    for name, args in SIGNATURES.items():
        assert defs.get(name) == args, name
        body = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == name).body
        assert isinstance(body[-1], ast.Raise) and "TODO" in ast.unparse(body[-1]), name  # a TODO body
    assert "create_linear_data" in defs
    text = code_of(nb)
    assert "step(params, x[i], y[i], lr, lam)" in text  # the loop calls the student's own step
    assert "p.data -= lr * p.grad" in text and "p.grad.zero_()" in text  # in the step's TODO, the lab's words
    assert "A = M W" in text and "W·M = Aᵀ" in text  # the last cell names the convention
    markdown = " ".join(c["source"] for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "Just for fun" in markdown and "Discussion" in markdown


def test_the_starter_runs_top_to_bottom_as_handed_out(tmp_path):
    printed = execute(notebooks.starter(), tmp_path)
    said = "\n".join(printed)
    for name in ("by hand", *SIGNATURES, "training", "W·M", "just for fun"):
        assert f"{name}: not written yet" in said, name
    assert "Error" not in said and "Traceback" not in said


def test_filled_in_with_the_solution_it_passes_baremlp_check(tmp_path):
    script = tmp_path / "lab3.py"  # the notebook exported as Python, as `jupyter nbconvert --to script` would
    script.write_text(code_of(notebooks.solved()), encoding="utf-8")
    assert main(["check", str(script)]) == 0


@pytest.mark.slow  # the default run grades this notebook with otter (test_grading_otter.py): every check passes
def test_filled_in_with_the_solution_the_notebook_trains_to_R_and_passes_the_checker(tmp_path):
    printed = execute(notebooks.solved(), tmp_path)
    said = "\n".join(printed)
    assert "not written yet" not in said
    assert "all 3 right" in said  # check.by_hand
    for check in ("forward", "loss", "regularization", "gradients", "step"):
        assert f"check.{check}: passed" in said, check
    error = float(re.search(r"max \|M W − R\| = (\S+)", said).group(1))
    assert error < 0.05
    assert "checked forward, loss, loss (cross-entropy), regularization, gradients, step: all passed" in said


def test_the_no_torch_nn_rule():
    import torch
    import torch.nn.functional as F

    def forward(x, W, b, M, c):
        return torch.nn.functional.relu(x @ W.T + b) @ M.T + c

    def clean_forward(x, W, b, M, c):
        return torch.relu(x @ W.T + b) @ M.T + c

    assert torch_nn_used({"torch": torch, "forward": clean_forward, "n": 3}) == []
    assert torch_nn_used({"F": F}) == ["F (the module torch.nn.functional)"]
    assert torch_nn_used({"forward": forward})[0].startswith("forward uses torch.nn")
    assert "torch.nn" in torch_nn_used({"layer": torch.nn.Linear(2, 3)})[0]
    assert "torch.optim" in torch_nn_used({"SGD": torch.optim.SGD})[0]


def test_the_graders_notebooks_carry_their_engines_marks():
    points = {q.name: q.points for q in QUESTIONS}
    otter = notebooks.otter()
    raw = [c["source"] for c in otter["cells"] if c["cell_type"] == "raw"]
    assert raw[0].startswith("# ASSIGNMENT CONFIG") and f"name: {NAME}" in raw[0]
    assert sum(s.startswith("# BEGIN QUESTION") for s in raw) == len(QUESTIONS) == sum(s == "# END QUESTION" for s in raw)
    for name, p in points.items():
        assert any(s.startswith(f"# BEGIN QUESTION\nname: {name}\npoints: {p}") for s in raw), name
    assert any("manual: true" in s for s in raw)
    source = notebooks.nbgrader()
    meta = [c["metadata"]["nbgrader"] for c in source["cells"] if "nbgrader" in c["metadata"]]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids))
    assert sum(m.get("points", 0) for m in meta if m["grade"]) == sum(points.values())
    manual = [m for m in meta if m["grade"] and m["solution"]]
    assert {m["grade_id"] for m in manual} == {"derivation-answer", "discussion-answer"}
    tests = [m for m in meta if m["grade"] and not m["solution"]]
    assert all(m["locked"] for m in tests) and len(tests) == sum(len(q.tests) for q in QUESTIONS)
    answers = [c["source"] for c in source["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
               and c["cell_type"] == "code"]
    assert all("### BEGIN SOLUTION" in a and "### END SOLUTION" in a for a in answers)


def test_write_refuses_a_file(tmp_path):
    from baremlp.errors import UsageError
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        write(tmp_path / "f")
