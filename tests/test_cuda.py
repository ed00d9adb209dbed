"""The same code on a GPU (run by bench/gpu_check.sh where one exists; skipped elsewhere)."""
import pytest
import torch

from baremlp import MLP, analysis, datasets, evaluate, train
from baremlp.model import resolve_device

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]


def test_auto_picks_cuda():
    assert resolve_device("auto").type == "cuda"
    assert MLP([2, 3, 2], device="auto").device.type == "cuda"


@pytest.mark.parametrize("engine", ["eager", "compiled"])
def test_rotation_on_cuda_matches_cpu(engine):
    x, y = datasets.linear(500, seed=0)
    nets = {}
    for device in ("cpu", "cuda"):
        nets[device] = MLP([2, 3, 2], seed=0, device=device)
        train(nets[device], x, y, lr=0.04, epochs=3, seed=0, engine=engine)
    for a, b in zip(nets["cpu"].parameters, nets["cuda"].parameters):
        torch.testing.assert_close(a, b.cpu(), atol=1e-4, rtol=0)


def test_batched_classification_on_cuda():
    x, y = datasets.square(2000, seed=0)
    net = MLP([2, 32, 2], seed=0, init="he", device="cuda")
    train(net, (x - 2) / 1.2, y, loss="cross-entropy", lr=0.1, momentum=0.9, epochs=30, batch_size=64, seed=0)
    assert evaluate(net, (x - 2) / 1.2, y, "cross-entropy")["accuracy"] > 0.95
    assert analysis.effective_map(net).device.type == "cpu"
