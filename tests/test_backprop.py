"""Backpropagation by hand (ops' backward, baremlp.backprop): every op's backward against autograd and
central finite differences in float64, the whole network's gradients against autograd, the worked
backward of docs/worked-examples.md, the manual engine against the eager one, and `baremlp gradcheck`."""
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from baremlp import MLP, UsageError, datasets, ops, train
from baremlp.backprop import gradcheck, gradients
from baremlp.cli import main
from baremlp.model import build_layers, forward
from baremlp.train import TrainState
from helpers import away_from_kink

f64 = torch.float64
sizes = st.integers(1, 5)
seeds = st.integers(0, 2**31 - 1)


def randn(seed, *shape):
    return torch.randn(*shape, dtype=f64, generator=torch.Generator().manual_seed(seed))


def check_backward(forward, inputs, G, backward):
    """forward(*inputs) -> (output, op); backward(op, G) -> our ∂(Σ output ⊙ G)/∂input for each input.
    Ours must equal autograd's and the central finite differences of Σ output ⊙ G (float64)."""
    _, op = forward(*inputs)
    ours = backward(op, G)
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    autograd = torch.autograd.grad(forward(*leaves)[0], leaves, G)
    for k, (mine, auto) in enumerate(zip(ours, autograd)):
        torch.testing.assert_close(mine, auto, atol=1e-12, rtol=1e-12)
        fd = torch.zeros_like(inputs[k])
        for i in range(fd.numel()):
            def at(delta):
                moved = [t.clone() for t in inputs]
                moved[k].view(-1)[i] += delta
                return (forward(*moved)[0] * G).sum()
            fd.view(-1)[i] = (at(1e-6) - at(-1e-6)) / 2e-6
        torch.testing.assert_close(mine, fd, atol=1e-7, rtol=1e-6)


def run(op, *args):
    return op(*args), op


@settings(max_examples=25, deadline=None)
@given(seeds, sizes, sizes, sizes)
@example(0, 1, 2, 3)  # one sample: the lab's per-sample step
@example(0, 4, 2, 3)
def test_linear_backward(seed, n, fan_in, fan_out):
    x, W, b, G = randn(seed, n, fan_in), randn(seed + 1, fan_out, fan_in), randn(seed + 2, fan_out), randn(seed + 3, n, fan_out)
    check_backward(lambda x, W, b: run(ops.Linear(W, b), x), [x, W, b], G,
                   lambda op, G: [op.backward(G), op.dW, op.db])  # dX = dU W, dW = dUᵀ X, db = Σ_rows dU
    first = ops.Linear(W, b)  # the first layer: its input is the data, whose gradient nobody needs
    first(x)
    assert first.backward(G, input_grad=False) is None
    torch.testing.assert_close(first.dW, G.t() @ x, atol=0, rtol=0)


@settings(max_examples=25, deadline=None)
@given(seeds, sizes, sizes)
def test_relu_backward(seed, n, width):
    u = away_from_kink(n, width, seed=seed)  # finite differences straddle the kink otherwise
    check_backward(lambda u: run(ops.ReLU(), u), [u], randn(seed, n, width), lambda op, G: [op.backward(G)])


def test_relu_slope_at_exactly_zero_is_zero_as_torch_relu():
    u = torch.tensor([[-1.0, 0.0, 2.0]], dtype=f64, requires_grad=True)
    relu = ops.ReLU()
    relu(u.detach())
    torch.relu(u).sum().backward()
    assert relu.backward(torch.ones(1, 3, dtype=f64)).tolist() == u.grad.tolist() == [[0.0, 0.0, 1.0]]


@settings(max_examples=25, deadline=None)
@given(seeds, sizes, sizes)
def test_softmax_backward(seed, n, k):
    check_backward(lambda v: run(ops.Softmax(), v), [randn(seed, n, k)], randn(seed + 1, n, k),
                   lambda op, G: [op.backward(G)])


@settings(max_examples=25, deadline=None)
@given(seeds, sizes, sizes)
@example(0, 1, 2)
@example(0, 5, 2)
def test_mse_backward(seed, n, k):
    y, dL = randn(seed + 1, n, k), randn(seed + 2, ()).item()  # dL = ∂J/∂L, any number
    check_backward(lambda v: run(ops.MSELoss(), v, y), [randn(seed, n, k)], torch.tensor(dL, dtype=f64),
                   lambda op, G: [op.backward(dL)])


@settings(max_examples=25, deadline=None)
@given(seeds, sizes, st.integers(2, 5), st.sampled_from(["indices", "one-hot", "probabilities", "any rows"]))
@example(0, 1, 3, "indices")
@example(0, 1, 3, "probabilities")
def test_cross_entropy_backward(seed, n, k, kind):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, k, (n,), generator=g)
    y = {"indices": labels, "one-hot": torch.eye(k, dtype=f64)[labels],
         "probabilities": randn(seed + 1, n, k).softmax(1),
         "any rows": randn(seed + 1, n, k).abs()}[kind]  # rows that do not sum to 1: ((Σ_k y_k) p − y) / N
    dL = randn(seed + 2, ()).item()
    check_backward(lambda v: run(ops.CrossEntropyLoss(), v, y), [randn(seed, n, k)], torch.tensor(dL, dtype=f64),
                   lambda op, G: [op.backward(dL)])


@settings(max_examples=15, deadline=None)
@given(seeds, sizes, sizes)
def test_frobenius_squared_and_sum_backward(seed, rows, columns):
    W, ds = randn(seed, rows, columns), randn(seed + 1, ()).item()
    check_backward(lambda W: run(ops.FrobeniusSquared(), W), [W], torch.tensor(ds, dtype=f64),
                   lambda op, G: [op.backward(ds)])  # ds · 2W
    terms = [randn(seed + k, ()) for k in range(columns)]
    check_backward(lambda *t: run(ops.Sum(), list(t)), terms, torch.tensor(ds, dtype=f64),
                   lambda op, G: [torch.tensor(d, dtype=f64) for d in op.backward(ds)])  # ds to every term


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_objective_backward(reg):
    y, Ws = randn(1, 4, 2), [randn(2, 3, 2), randn(3, 2, 3)]

    def forward(v, *weights):
        objective = ops.Objective(ops.MSELoss())
        return objective(v, y, list(weights) or Ws, reg), objective

    # with λ = 0 the weights are not part of J: only ∂J/∂v exists, and there is no penalty gradient
    inputs = [randn(0, 4, 2), *Ws] if reg else [randn(0, 4, 2)]
    check_backward(forward, inputs, torch.tensor(1.0, dtype=f64), lambda op, G: [op.backward()[0], *op.backward()[1]])



def autograd_gradients(net, x, y, loss, reg):
    """The reference: autograd on a copy of net's parameters, through the eager engine's forward and J."""
    params = [p.detach().clone().requires_grad_() for p in net.parameters]
    J = ops.objective(ops.LOSSES[loss](), forward(build_layers(params), x), y, params[0::2], reg)
    return J, torch.autograd.grad(J, params)


def targets(kind, seed, n, k):
    g = torch.Generator().manual_seed(seed)
    if kind == "regression":
        return "mse", torch.randn(n, k, dtype=f64, generator=g)
    if kind == "indices":
        return "cross-entropy", torch.randint(0, k, (n,), generator=g)
    return "cross-entropy", torch.randn(n, k, dtype=f64, generator=g).softmax(1)  # probability rows


@settings(max_examples=30, deadline=None)
@given(seeds, st.lists(st.integers(1, 6), min_size=1, max_size=3), st.integers(1, 6),
       st.sampled_from(["regression", "indices", "probabilities"]), st.sampled_from([0.0, 0.05]))
@example(0, [3], 1, "regression", 0.0)  # the lab's 2-3-2 network on one sample, λ off and on
@example(0, [3], 1, "regression", 0.05)
def test_gradients_equal_autograd_on_random_networks(seed, hidden, n, kind, reg):
    net = MLP([2, *hidden, 3], seed=seed, init="he", dtype=f64)
    x = randn(seed, n, 2)
    loss, y = targets(kind, seed, n, 3)
    J, grads = gradients(net, x, y, loss=loss, reg=reg)
    J_ref, grads_ref = autograd_gradients(net, x, y, loss, reg)
    assert J.item() == pytest.approx(J_ref.item(), rel=1e-12, abs=1e-15)
    assert [g.shape for g in grads] == [p.shape for p in net.parameters]
    for g, ref in zip(grads, grads_ref):
        torch.testing.assert_close(g, ref, atol=1e-12, rtol=1e-12)


def test_gradients_need_no_autograd():
    net = MLP([2, 4, 2], seed=1, dtype=f64)
    x, y = randn(1, 5, 2), randn(2, 5, 2)
    J_ref, grads_ref = autograd_gradients(net, x, y, "mse", 0.1)
    for p in net.parameters:
        p.requires_grad_(False)
    with torch.inference_mode():
        J, grads = gradients(net, x, y, reg=0.1)
    assert J.item() == pytest.approx(J_ref.item(), rel=1e-12)
    for g, ref in zip(grads, grads_ref):
        torch.testing.assert_close(g, ref, atol=1e-12, rtol=1e-12)


def test_relu_exactly_at_zero_in_the_network():
    """A hidden unit with u = 0 on the sample: the manual slope there is 0, as autograd's torch.relu."""
    net = MLP([2, 3, 2], dtype=f64)
    net.load_state_dict({"W0": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]), "b0": torch.zeros(3),
                         "W1": torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), "b1": torch.zeros(2)})
    x, y = torch.tensor([[1.0, 1.0]], dtype=f64), torch.zeros(1, 2, dtype=f64)  # u₃ = 1 − 1 = 0
    assert net.hidden(x)[0][0, 2].item() == 0.0
    _, grads = gradients(net, x, y)
    _, grads_ref = autograd_gradients(net, x, y, "mse", 0.0)
    assert grads[0][2].tolist() == [0.0, 0.0] and grads[1][2].item() == 0.0  # no gradient through the kink
    for g, ref in zip(grads, grads_ref):
        assert torch.equal(g, ref)


@pytest.fixture
def worked(worked_net):  # worked_net (conftest.py): docs/worked-examples.md's network
    return worked_net, torch.tensor([[1.0, 2.0]], dtype=f64), torch.tensor([[-2.0, 1.0]], dtype=f64)  # x, y = R x


def test_worked_backward_through_the_manual_engine(worked):
    """Case 6 of docs/worked-examples.md (λ = 0) and derivation.md §3 (λ = 0.1), number for number."""
    net, x, y = worked
    J, (dW, db, dM, dc) = gradients(net, x, y)
    assert J.item() == 31.25
    assert dc.tolist() == [11, -2] and db.tolist() == [11, -2, 13]
    assert dM.tolist() == [[11, 22, 27.5], [-2, -4, -5]]
    assert dW.tolist() == [[11, 22], [-2, -4], [13, 26]]
    J, (dW, db, dM, dc) = gradients(net, x, y, reg=0.1)
    assert J.item() == pytest.approx(32.05, abs=1e-12)
    torch.testing.assert_close(dW, torch.tensor([[11.2, 22], [-2, -3.8], [13.2, 26.2]], dtype=f64), atol=1e-12, rtol=0)
    torch.testing.assert_close(dM, torch.tensor([[11.2, 22, 27.7], [-2, -3.8, -5.2]], dtype=f64), atol=1e-12, rtol=0)
    assert dc.tolist() == [11, -2] and db.tolist() == [11, -2, 13]  # no λ on biases
    train(net, x, y, lr=0.01, epochs=1, engine="manual")  # one SGD step: c ← c − lr · ∂L/∂c
    assert net.biases[1].tolist() == pytest.approx([-0.11, 0.52], abs=1e-15)


@pytest.mark.parametrize("dtype, atol", [(torch.float32, 1e-5), (f64, 1e-10)])
def test_manual_engine_ends_where_eager_does(dtype, atol):
    """Two epochs of per-sample SGD on the rotation data, with λ and momentum."""
    x, y = datasets.linear(1000, seed=0)
    nets, histories = {}, {}
    for engine in ("eager", "manual"):
        nets[engine] = MLP([2, 3, 2], seed=0, dtype=dtype)
        histories[engine] = train(nets[engine], x, y, lr=0.02, epochs=2, reg=0.01, momentum=0.5, seed=0, engine=engine)
    for a, b in zip(nets["eager"].parameters, nets["manual"].parameters):
        torch.testing.assert_close(a, b, atol=atol, rtol=0)
    assert [r["loss"] for r in histories["manual"]] == pytest.approx([r["loss"] for r in histories["eager"]], rel=1e-5)


def test_every_train_option_works_with_the_manual_engine():
    """Batches with a partial last one, cross-entropy with accuracy, momentum, a schedule, reg_epochs,
    validation with early stopping, check_steps: the same records and weights as the eager engine."""
    x, y = datasets.square(300, seed=0)
    x = (x - 2) / 1.2
    val = datasets.square(100, seed=1)
    val = ((val[0] - 2) / 1.2, val[1])
    nets, histories = {}, {}
    for engine in ("eager", "manual"):
        nets[engine] = MLP([2, 8, 2], seed=0, init="he")
        histories[engine] = train(nets[engine], x, y, loss="cross-entropy", lr=0.1, epochs=4, batch_size=32,
                                  reg=0.001, reg_epochs=2, momentum=0.9, schedule="cosine", val=val, patience=3,
                                  check_steps=True, seed=0, engine=engine)
    for a, b in zip(histories["eager"], histories["manual"]):
        assert a.keys() == b.keys() >= {"accuracy", "val_loss", "val_accuracy", "best_epoch", "steps_down"}
        for key in a.keys() - {"time"}:
            assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-7), key
    for a, b in zip(nets["eager"].parameters, nets["manual"].parameters):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_manual_engine_resumes_where_it_stopped():
    x, y = datasets.linear(200, seed=2)
    whole = MLP([2, 3, 2], seed=2)
    train(whole, x, y, lr=0.02, epochs=3, momentum=0.5, seed=2, engine="manual")
    resumed, state = MLP([2, 3, 2], seed=2), TrainState()
    train(resumed, x, y, lr=0.02, epochs=3, momentum=0.5, seed=2, engine="manual", state=state,
          callback=lambda record, state: record["epoch"] == 1)  # stops after the first epoch
    assert state.epoch == 1
    train(resumed, x, y, lr=0.02, epochs=3, momentum=0.5, seed=2, engine="manual", state=state)
    for a, b in zip(whole.parameters, resumed.parameters):
        assert torch.equal(a, b)


def test_a_loss_without_backward_is_refused_in_one_line():
    x, y = datasets.linear(20, seed=0)
    with pytest.raises(UsageError, match="no backward") as caught:
        train(MLP([2, 3, 2]), x, y, loss=lambda v, t: ((v - t) ** 2).sum(), engine="manual")
    assert "\n" not in str(caught.value)


def test_gradcheck_agrees_on_a_deeper_classifier():
    x, y = datasets.square(200, seed=0)
    result = gradcheck(MLP([2, 16, 8, 2], seed=0, init="he"), (x - 2) / 1.2, y, loss="cross-entropy", reg=0.01)
    assert result["ok"] and result["samples"] == 32 and result["tolerance"] == 1e-4
    assert [r["name"] for r in result["rows"]] == ["W0", "b0", "W1", "b1", "W2", "b2"]
    assert [r["probed"] for r in result["rows"]] == ["20/32", "16/16", "20/128", "8/8", "16/16", "2/2"]
    assert all(r["autograd_vs_fd"] < 1e-8 and r["manual_vs_autograd"] < 1e-6 for r in result["rows"])


def test_gradcheck_command(capsys):
    assert main(["gradcheck", "--n", "100"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["W0"], ["b0"], ["W1"], ["b1"])]
    assert [r[0] for r in rows] == ["W0", "b0", "W1", "b1"] and all(r[-1] == "ok" for r in rows)
    assert out.splitlines()[-1] == "all gradients agree"


def test_gradcheck_command_catches_a_wrong_backward(capsys, monkeypatch):
    monkeypatch.setattr(ops.MSELoss, "backward", lambda self, dL=1.0: self.d / self.d.shape[0])  # forgot the 2
    assert main(["gradcheck", "--n", "100", "--dtype", "float64"]) == 1
    out = capsys.readouterr().out
    assert "DISAGREE" in out and out.splitlines()[-1] == "some gradients DISAGREE"


@pytest.mark.parametrize("argv", [["gradcheck", "--lr", "0.1"], ["gradcheck", "--hidden", "3,x"],
                                  ["gradcheck", "--samples", "0"], ["gradcheck", "--reg", "-1"]])
def test_gradcheck_command_refuses_bad_flags(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_train_command_with_the_manual_engine(tmp_path, capsys):
    finals = {}
    for engine in ("eager", "manual"):
        assert main(["train", "--n", "200", "--epochs", "2", "--engine", engine, "--quiet"]) == 0
        finals[engine] = float(capsys.readouterr().out.split()[-1])
    assert finals["manual"] == pytest.approx(finals["eager"], rel=1e-5)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_manual_engine_on_cuda_matches_the_cpu():
    x, y = datasets.linear(500, seed=0)
    nets = {}
    for device in ("cpu", "cuda"):
        nets[device] = MLP([2, 3, 2], seed=0, device=device)
        train(nets[device], x, y, lr=0.04, epochs=3, reg=0.01, momentum=0.5, seed=0, engine="manual")
    for a, b in zip(nets["cpu"].parameters, nets["cuda"].parameters):
        torch.testing.assert_close(a, b.cpu(), atol=1e-4, rtol=0)
    net = MLP([2, 8, 3], seed=0, device="cuda", dtype=f64)
    x, y = randn(0, 16, 2), torch.randint(0, 3, (16,), generator=torch.Generator().manual_seed(0))
    _, grads = gradients(net, x, y, loss="cross-entropy", reg=0.01)
    _, grads_ref = autograd_gradients(net, x.cuda(), y.cuda(), "cross-entropy", 0.01)
    for g, ref in zip(grads, grads_ref):
        assert g.device.type == "cuda"
        torch.testing.assert_close(g, ref, atol=1e-12, rtol=1e-12)
