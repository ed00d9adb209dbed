"""One helper compares an op of ours with a torch.nn.functional reference (tests only may use it):
forward values first, then autograd gradients, then central finite differences in float64."""
import torch
from torch import nn


def compare(ours, reference, *inputs, atol=1e-10, grad_atol=1e-8, fd=True):
    """inputs: float64 tensors (those with requires_grad get gradients checked); integer tensors
    pass through.  The reference's output must match ours, and so must d(sum(out · w))/d(input)
    for a fixed random w, which weighs every output element differently."""
    mine = [t.detach().clone().requires_grad_(t.requires_grad) for t in inputs]
    theirs = [t.detach().clone().requires_grad_(t.requires_grad) for t in inputs]
    out, ref = ours(*mine), reference(*theirs)
    torch.testing.assert_close(out, ref, atol=atol, rtol=0)
    w = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(0))
    (out * w).sum().backward()
    (ref * w).sum().backward()
    for a, b in zip(mine, theirs):
        if a.requires_grad:
            torch.testing.assert_close(a.grad, b.grad, atol=grad_atol, rtol=0)
    if fd:
        differentiable = [t for t in mine if t.requires_grad]

        def f(*args):
            it = iter(args)
            return ours(*[next(it) if t.requires_grad else t for t in mine])

        assert torch.autograd.gradcheck(f, [t.detach().requires_grad_() for t in differentiable],
                                        eps=1e-6, atol=1e-6)


def away_from_kink(*shape, seed=0, margin=0.1):
    """float64 values with |x| ≥ margin: ReLU is smooth there, so finite differences are valid."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, dtype=torch.float64, generator=g)
    return x.sign() * (x.abs() + margin)


def torch_nn_copy(net):
    """torch.nn.Sequential(Linear, ReLU, ..., Linear) holding a copy of net's parameters (the oracle of
    tests/test_model.py, and the peer that bench/run.py times)."""
    layers = []
    for W, b in zip(net.weights, net.biases):
        linear = nn.Linear(W.shape[1], W.shape[0], device=W.device, dtype=W.dtype)
        with torch.no_grad():
            linear.weight.copy_(W)
            linear.bias.copy_(b)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def run_notebook(path, tmp_path, timeout):
    """A notebook executed top to bottom from a temporary copy (the committed one, with its saved outputs,
    is never rewritten), in the notebooks folder, by the "python3" kernel: with ipykernel importable,
    jupyter_client resolves it to this interpreter, so the kernel sees the same venv.  Skips where nbclient,
    ipykernel or that kernel spec is missing; raises CellExecutionError on the first cell that fails."""
    import shutil

    import pytest
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import find_kernel_specs  # installed with nbclient
    if "python3" not in find_kernel_specs():
        pytest.skip("no python3 kernel spec found")
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=timeout,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def text_of(cell):
    """All stream and text/plain output of a notebook's code cell, joined."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out and "text/plain" in out.data:
            parts.append(out.data["text/plain"])
    return "".join(parts)
