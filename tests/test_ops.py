"""Every op against torch.nn.functional (forward, gradients) and central finite differences."""
import torch
import torch.nn.functional as F

from baremlp import ops
from helpers import away_from_kink, compare

g = torch.Generator().manual_seed(1)


def rand(*shape, grad=True):
    return torch.randn(*shape, dtype=torch.float64, generator=g).requires_grad_(grad)


def labels(n, k):
    return torch.randint(0, k, (n,), generator=g)


def linear(x, W, b):
    return ops.Linear(W, b)(x)


def test_linear():
    compare(linear, F.linear, rand(5, 4), rand(3, 4), rand(3))


def test_linear_single_sample():
    compare(linear, F.linear, rand(1, 2), rand(3, 2), rand(3))


def test_relu():
    compare(ops.ReLU(), F.relu, away_from_kink(6, 5).requires_grad_())


def test_relu_slope_at_the_kink_is_zero():
    u = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    ops.ReLU()(u).sum().backward()
    assert u.grad.tolist() == [0.0, 0.0, 1.0]


def test_softmax():
    compare(ops.Softmax(), lambda v: F.softmax(v, dim=-1), rand(4, 7))


def test_softmax_extreme_logits_stay_finite():
    v = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=torch.float64, requires_grad=True)
    compare(ops.Softmax(), lambda v: F.softmax(v, dim=-1), v, fd=False)
    assert torch.isfinite(ops.Softmax()(v.float())).all()


def test_mse_sums_outputs_and_averages_samples():
    compare(ops.MSELoss(), lambda v, y: F.mse_loss(v, y, reduction="sum") / v.shape[0], rand(6, 3), rand(6, 3))


def test_cross_entropy_class_indices():
    compare(ops.CrossEntropyLoss(), F.cross_entropy, rand(8, 5), labels(8, 5))


def test_cross_entropy_one_hot_targets():
    y = labels(8, 5)
    compare(ops.CrossEntropyLoss(), F.cross_entropy, rand(8, 5), F.one_hot(y, 5).double())


def test_cross_entropy_extreme_logits_stay_finite():
    v = torch.tensor([[1e4, -1e4], [-1e4, 1e4]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1, 1])
    compare(ops.CrossEntropyLoss(), F.cross_entropy, v, y, fd=False)
    assert ops.CrossEntropyLoss()(v.float(), y).item() == 1e4
    assert ops.CrossEntropyLoss()(v, torch.tensor([0, 1])).item() == 0
    assert ops.CrossEntropyLoss()(v, torch.tensor([1, 0])).item() == 2e4


def test_frobenius_squared():
    compare(ops.FrobeniusSquared(), lambda W: torch.linalg.matrix_norm(W) ** 2, rand(3, 4))


def test_sum():
    compare(lambda a, b, c: ops.Sum()([a, b, c]), lambda a, b, c: a + b + c, rand(()), rand(()), rand(()))


def objective_ours(x, W, b, M, c, y):
    h = ops.ReLU()(ops.Linear(W, b)(x))
    return ops.objective(ops.MSELoss(), ops.Linear(M, c)(h), y, [W, M], reg=0.3)


def objective_ref(x, W, b, M, c, y):
    v = F.linear(F.relu(F.linear(x, W, b)), M, c)
    return F.mse_loss(v, y, reduction="sum") / x.shape[0] + 0.3 * (W.pow(2).sum() + M.pow(2).sum())


def test_objective_J_mse_with_regularization():
    # b = 0.5 and x away from 0 keep every u clear of ReLU's kink, where finite differences fail
    x = away_from_kink(5, 2, seed=3)
    W = away_from_kink(3, 2, seed=4)
    b = torch.full((3,), 0.05, dtype=torch.float64)
    u = x @ W.T + b
    assert u.abs().min() > 1e-3
    compare(objective_ours, objective_ref, x, W.requires_grad_(), b.requires_grad_(), rand(2, 3), rand(2), rand(5, 2, grad=False))


def test_objective_J_cross_entropy():
    def ours(v, W, y):
        return ops.objective(ops.CrossEntropyLoss(), v, y, [W], reg=0.01)

    def ref(v, W, y):
        return F.cross_entropy(v, y) + 0.01 * W.pow(2).sum()

    compare(ours, ref, rand(6, 4), rand(4, 3), labels(6, 4))


def test_reg_zero_adds_nothing():
    v, y, W = rand(3, 2), rand(3, 2), rand(2, 2)
    assert ops.objective(ops.MSELoss(), v, y, [W], 0.0).item() == ops.MSELoss()(v, y).item()
