"""Property tests: every op against torch.nn.functional on random shapes and values, extremes
included, in float32 and float64; the whole objective's gradients against finite differences."""
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from baremlp import MLP, ops
from baremlp.model import build_layers, forward

TOL = {torch.float32: dict(atol=1e-5, rtol=1e-5), torch.float64: dict(atol=1e-12, rtol=1e-12)}
dtypes = st.sampled_from([torch.float32, torch.float64])
shapes = st.tuples(st.integers(1, 6), st.integers(1, 7))  # (samples, features), single samples included
scales = st.sampled_from([0.0, 1e-3, 1.0, 30.0, 1e4])  # zeros, tiny, ordinary, large, extreme logits


def tensor(seed, shape, scale, dtype):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def close(a, b, dtype, scale=1.0):
    tol = TOL[dtype]
    torch.testing.assert_close(a, b, atol=tol["atol"] * max(1.0, scale), rtol=tol["rtol"])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), shapes, scales, dtypes)
def test_softmax_and_cross_entropy_match_functional(seed, shape, scale, dtype):
    v = tensor(seed, shape, scale, dtype).requires_grad_()
    v_ref = v.detach().clone().requires_grad_()
    y = torch.randint(0, shape[1], (shape[0],), generator=torch.Generator().manual_seed(seed))
    p = ops.Softmax()(v)
    assert torch.isfinite(p).all()
    close(p, F.softmax(v_ref, dim=-1), dtype)
    L, L_ref = ops.CrossEntropyLoss()(v, y), F.cross_entropy(v_ref, y)
    assert torch.isfinite(L)
    close(L, L_ref, dtype, scale)
    L.backward()
    L_ref.backward()
    close(v.grad, v_ref.grad, dtype)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), shapes, st.integers(1, 5), scales, dtypes)
def test_linear_relu_mse_match_functional(seed, shape, fan_out, scale, dtype):
    n, fan_in = shape
    x = tensor(seed, (n, fan_in), scale, dtype)
    W = tensor(seed + 1, (fan_out, fan_in), 1.0, dtype).requires_grad_()
    b = tensor(seed + 2, (fan_out,), 1.0, dtype).requires_grad_()
    y = tensor(seed + 3, (n, fan_out), 1.0, dtype)
    Wr, br = W.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    h = ops.ReLU()(ops.Linear(W, b)(x))
    h_ref = F.relu(F.linear(x, Wr, br))
    close(h, h_ref, dtype, scale)
    L = ops.MSELoss()(h, y)
    L_ref = F.mse_loss(h_ref, y, reduction="sum") / n
    close(L, L_ref, dtype, scale * scale)
    L.backward()
    L_ref.backward()
    close(W.grad, Wr.grad, dtype, scale * scale)
    close(b.grad, br.grad, dtype, scale)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.lists(st.integers(1, 4), min_size=1, max_size=2), st.sampled_from(["mse", "cross-entropy"]),
       st.sampled_from([0.0, 0.1]))
def test_objective_gradients_match_finite_differences(seed, hidden, loss, reg):
    """J of a random small network, float64, checked by torch.autograd.gradcheck (central differences)."""
    sizes = [3, *hidden, 2]
    net = MLP(sizes, seed=seed % 1000, dtype=torch.float64, init_scale=1.0)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for b in net.biases:
            b.copy_(torch.randn(b.shape, generator=g, dtype=torch.float64))
    x = torch.randn(4, 3, generator=g, dtype=torch.float64)
    for u in net.hidden(x):  # finite differences are only valid away from ReLU's kink at 0
        assume(u.abs().min() >= 1e-4)
    y = torch.randn(4, 2, generator=g, dtype=torch.float64) if loss == "mse" else torch.randint(0, 2, (4,), generator=g)
    loss_fn = ops.LOSSES[loss]()

    def J(*params):
        v = forward(build_layers(params), x)  # the forward pass every engine uses
        return ops.objective(loss_fn, v, y, params[0::2], reg)

    assert torch.autograd.gradcheck(J, [p.detach().clone().requires_grad_() for p in net.parameters], eps=1e-6, atol=1e-5)
