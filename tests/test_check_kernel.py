"""`baremlp check` on a notebook: its cells run in a Jupyter kernel, one by one, magics and all; a failing
cell is recorded with its number and line and the next cells still run; a long training cell is cut by
the time limit and the functions defined before it stay."""
import json
import os
import time
from pathlib import Path

import nbformat
import pytest

from baremlp.cli import main

RIGHT = (Path(__file__).resolve().parent / "check_gallery" / "lab_all_correct.py").read_text()
PARTS = RIGHT.split("\n\n\n")  # the imports, then one function per part


def part(name):
    return next(p for p in PARTS if p.startswith(f"def {name}("))


def test_a_notebook_is_judged_cell_by_cell(capfd, tmp_path):
    cells = ["%matplotlib inline\nimport numpy as np\nimport torch",                        # cell 2: a magic
             part("forward"),                                                               # cell 3
             "print('training')\nx = np.ones(3) @ np.ones(2)",                              # cell 4 raises
             part("loss"),                                                                  # cell 5
             "import time\nwhile True:\n    time.sleep(0.01)",                              # cell 6: cut
             "def regularization(W, M):\n    return (W ** 2).sum()",                       # cell 7: failed
             "def gradients(x, y, W, b, M, c, lam):\n    raise NotImplementedError('todo')",   # cell 8: raised
             "import torch.nn as nn\nloss = nn.MSELoss()(torch.zeros(1), torch.ones(1)).item()"]  # cell 9: rebinds
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Lab 1")] + [nbformat.v4.new_code_cell(c) for c in cells]
    path = tmp_path / "lab.ipynb"
    nbformat.write(notebook, str(path))
    code = main(["check", str(path), "--json", "--timeout", "5"])
    result = json.loads(capfd.readouterr().out)
    assert code == 1
    assert [(e["where"], e["line"], e["source"], e["error"], e["timed_out"]) for e in result["errors"]] == [
        ("cell 4", 2, "x = np.ones(3) @ np.ones(2)", "ValueError: matmul: Input operand 1 has a mismatch in its "
         "core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 2 is different from 3)", False),
        ("cell 6", None, "", "timed out after 5 s", True)]
    f = result["functions"]
    assert {n: p["status"] for n, p in f.items()} == {"forward": "passed", "loss": "rebound", "regularization":
                                                      "failed", "gradients": "raised", "step": "missing"}
    assert f["loss"]["detail"].startswith("`loss = nn.MSELoss()(torch.zeros(1), torch.ones(1)).item()` at cell 9")
    assert f["regularization"]["mistakes"] == ["reg-only-first-layer"]
    assert f["gradients"]["detail"].startswith("NotImplementedError: todo (cell 8, line 2: raise NotImplementedError")
    assert [h["where"] + f":{h['line']}" for h in result["rules"]["no-torch-nn"]["lines"]] == ["cell 9:1", "cell 9:2"]


@pytest.mark.slow
def test_a_kernel_that_left_its_process_group_ends_with_the_check(capfd, tmp_path):
    """A cell that calls os.setsid() is out of reach of the interrupt and of shutdown_kernel's group kill:
    the checker ends the kernel by its pid, and no kernel spins on after the command."""
    notebook = nbformat.v4.new_notebook()
    marker = f"baremlp-orphan-{tmp_path.name}"
    notebook.cells = [nbformat.v4.new_code_cell(part("forward")),
                      nbformat.v4.new_code_cell(f"import os\nos.setsid()\n{marker!r}\nwhile True:\n    pass")]
    path = tmp_path / "spin.ipynb"
    nbformat.write(notebook, path)
    assert main(["check", str(path), "--json", "--timeout", "2", "--total-timeout", "30"]) == 1
    time.sleep(1)
    left = [pid for pid in filter(str.isdigit, os.listdir("/proc")) if kernel_of(pid, str(path))]
    assert not left, f"kernels still running: {left}"


def kernel_of(pid, path):
    """Whether process pid is a Jupyter kernel started in the notebook's folder."""
    try:
        return "ipykernel" in open(f"/proc/{pid}/cmdline").read() and os.readlink(f"/proc/{pid}/cwd") == os.path.dirname(path)
    except OSError:
        return False
