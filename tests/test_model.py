"""A whole MLP against the equivalent torch.nn.Sequential (tests only may use torch.nn): the
forward output and the gradient of J = L + λ Σ‖W_i‖²_F for every parameter, in float64."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from baremlp import MLP, ops
from helpers import torch_nn_copy


@pytest.mark.parametrize("sizes", [[2, 3, 2], [1, 1], [5, 8, 4, 3], [7, 16, 16, 16, 2]])
@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_mlp_equals_torch_nn_sequential(sizes, loss, reg):
    g = torch.Generator().manual_seed(sum(sizes))
    net = MLP(sizes, seed=len(sizes), init="he", dtype=torch.float64)
    with torch.no_grad():  # non-zero biases, so that a wrong bias path cannot hide
        for b in net.biases:
            b.copy_(torch.randn(b.shape, generator=g, dtype=torch.float64) * 0.1)
    reference = torch_nn_copy(net)
    x = torch.randn(9, sizes[0], generator=g, dtype=torch.float64)
    if loss == "mse":
        y = torch.randn(9, sizes[-1], generator=g, dtype=torch.float64)
        L_ref = lambda v: F.mse_loss(v, y, reduction="sum") / len(x)  # noqa: E731 (ours: Σ over outputs, mean over samples)
    else:
        y = torch.randint(0, sizes[-1], (9,), generator=g)
        L_ref = lambda v: F.cross_entropy(v, y)  # noqa: E731

    v = net(x)
    v_ref = reference(x)
    torch.testing.assert_close(v, v_ref, atol=1e-12, rtol=0)

    J = ops.objective(ops.LOSSES[loss](), v, y, net.weights, reg)
    linears = [m for m in reference if isinstance(m, nn.Linear)]
    J_ref = L_ref(v_ref) + reg * sum(m.weight.pow(2).sum() for m in linears)
    torch.testing.assert_close(J, J_ref, atol=1e-12, rtol=0)

    J.backward()
    J_ref.backward()
    for i, m in enumerate(linears):
        torch.testing.assert_close(net.weights[i].grad, m.weight.grad, atol=1e-12, rtol=0)
        torch.testing.assert_close(net.biases[i].grad, m.bias.grad, atol=1e-12, rtol=0)
