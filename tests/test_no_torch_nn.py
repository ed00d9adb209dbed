"""The library builds the network from bare tensor ops: nothing under src/ may use torch.nn or torch.optim."""
import ast
import pathlib

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
FORBIDDEN = ("torch.nn", "torch.optim")


def forbidden_uses(source):
    """Import statements and attribute chains (torch.nn.functional.relu) that reach a forbidden module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Attribute):
            parts, cur = [node.attr], node.value
            while isinstance(cur, ast.Attribute):
                parts.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name):
                names = [".".join([cur.id] + parts[::-1])]
        found += [n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]
    return found


def test_detector_catches_every_form():
    for bad in ("import torch.nn", "import torch.nn.functional as F", "from torch import nn",
                "from torch import optim", "from torch.nn import functional", "import torch\ntorch.nn.functional.relu(x)",
                "import torch\nopt = torch.optim.SGD([], lr=1)"):
        assert forbidden_uses(bad), bad
    assert not forbidden_uses("import torch\nx = torch.nnz if False else torch.addmm")


def test_src_uses_no_torch_nn_or_optim():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) >= 8
    offenders = {str(p.relative_to(SRC)): forbidden_uses(p.read_text()) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}
