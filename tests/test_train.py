"""The training loop: the rotation data end to end, and the loop's promises (determinism, the lab's
sanity rule, momentum, schedules, divergence, early stopping)."""

import pytest
import torch

from baremlp import MLP, Diverged, analysis, datasets, evaluate, train
from baremlp.sgd import epoch_order, lr_at, sgd_step
from baremlp.train import TrainState


def test_rotation_recovered_end_to_end():
    """The lab's canonical check: 2-3-2 per-sample SGD on y = R x learns M W = R, every ReLU on."""
    x, y = datasets.linear(1000, seed=0)
    net = MLP([2, 3, 2], seed=0)
    history = train(net, x, y, lr=0.04, epochs=12, seed=0)
    assert history[-1]["loss"] < history[0]["loss"] / 100
    A = analysis.effective_map(net)
    assert analysis.map_error(A) <= 1e-3, A
    assert all(bool((f > 0.99).all()) for f in analysis.relu_active_fraction(net, x))


def test_batched_training_uses_whole_batches_and_converges():
    x, y = datasets.linear(512, seed=1)
    net = MLP([2, 3, 2], seed=1)
    history = train(net, x, y, lr=0.1, epochs=150, batch_size=64, seed=1)
    assert len(history) == 150 and history[-1]["loss"] < 1e-2 < history[0]["loss"]


def test_same_seed_same_history():
    x, y = datasets.linear(200, seed=3)
    runs = []
    for _ in range(2):
        net = MLP([2, 3, 2], seed=3)
        h = train(net, x, y, lr=0.03, epochs=3, seed=3)
        runs.append(([r["loss"] for r in h], [p.tolist() for p in net.parameters]))
    assert runs[0] == runs[1]


def test_order_depends_on_seed_and_epoch_only():
    assert torch.equal(epoch_order(50, 7, 2), epoch_order(50, 7, 2))
    assert not torch.equal(epoch_order(50, 7, 2), epoch_order(50, 7, 3))
    assert sorted(epoch_order(50, 7, 2).tolist()) == list(range(50))


def test_without_shuffle_the_samples_are_visited_in_their_given_order():
    """shuffle=False: per-sample SGD over rows 0, 1, ..., n−1 every epoch, as a plain loop with
    torch.nn.functional's loss computes it."""
    x, y = datasets.linear(5, seed=4)
    net = MLP([2, 3, 2], seed=4)
    train(net, x, y, lr=0.1, epochs=2, shuffle=False, seed=4)
    W, b, M, c = (p.detach().clone().requires_grad_() for p in MLP([2, 3, 2], seed=4).parameters)
    for _ in range(2):
        for i in range(5):
            v = torch.nn.functional.linear(torch.relu(torch.nn.functional.linear(x[i], W, b)), M, c)
            torch.nn.functional.mse_loss(v, y[i], reduction="sum").backward()
            with torch.no_grad():
                for p in (W, b, M, c):
                    p -= 0.1 * p.grad
                    p.grad = None
    for p, q in zip(net.parameters, (W, b, M, c)):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_check_steps_reports_the_lab_sanity_rule():
    x, y = datasets.linear(300, seed=2)
    net = MLP([2, 3, 2], seed=2)
    history = train(net, x, y, lr=0.01, epochs=2, seed=2, check_steps=True)
    # a small step along -dJ/dp lowers J on the same sample almost always
    assert all(0.9 <= r["steps_down"] <= 1.0 for r in history)


def test_sgd_step_by_hand():
    p = torch.tensor([1.0, -2.0], requires_grad=True)
    (p * torch.tensor([3.0, 4.0])).sum().backward()  # dJ/dp = (3, 4)
    sgd_step([p], lr=0.5)
    assert p.tolist() == [-0.5, -4.0] and p.grad is None


def test_momentum_matches_pytorch_convention():
    """v ← μ v + g, p ← p − lr v, checked against torch.optim.SGD (tests only may use it)."""
    target = torch.tensor([0.3, -0.7])
    ours = torch.tensor([1.0, 2.0], requires_grad=True)
    ref = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = torch.optim.SGD([ref], lr=0.1, momentum=0.9)
    velocity = [torch.zeros(2)]
    for _ in range(5):
        ((ours - target) ** 2).sum().backward()
        sgd_step([ours], 0.1, 0.9, velocity)
        opt.zero_grad()
        ((ref - target) ** 2).sum().backward()
        opt.step()
    torch.testing.assert_close(ours.detach(), ref.detach())


def test_schedules():
    assert [lr_at(1.0, e, 8, "constant") for e in (0, 7)] == [1.0, 1.0]
    assert [round(lr_at(1.0, e, 8, "step"), 12) for e in range(8)] == [1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01]
    assert lr_at(1.0, 0, 4, "cosine") == 1.0
    assert lr_at(1.0, 2, 4, "cosine") == pytest.approx(0.5)


def test_divergence_stops_at_the_step_it_appears():
    x, y = datasets.linear(100, seed=0)
    y[37] = 1e30  # its squared error overflows float32; sample 37 comes at a known place in the order
    net = MLP([2, 3, 2], seed=0)
    position = epoch_order(100, 5, 0).tolist().index(37)
    with pytest.raises(Diverged, match=r"non-finite at step \d+ .*smaller learning rate") as info:
        train(net, x, y, lr=0.01, epochs=1, seed=5)
    assert info.value.step == position + 1


def test_early_stopping_restores_best():
    x, y = datasets.linear(200, seed=4)
    xv, yv = datasets.linear(100, seed=5, noise=3.0)  # noisy validation data: its loss soon stops falling
    net = MLP([2, 3, 2], seed=4)
    h = train(net, x, y, lr=0.05, epochs=40, seed=4, val=(xv, yv), patience=2)
    best = min(r["val_loss"] for r in h)
    assert len(h) < 40
    assert evaluate(net, xv, yv)["loss"] == pytest.approx(best, rel=1e-5)
    first_best = [r["val_loss"] for r in h].index(best) + 1
    assert [r["best_epoch"] for r in h][-3:] == [first_best] * 3 and len(h) == first_best + 2  # patience 2


def test_best_is_only_for_early_stopping():
    x, y = datasets.linear(50, seed=4)
    net = MLP([2, 3, 2], seed=4)
    old = {k: v + 1 for k, v in net.state_dict().items()}
    train(net, x, y, lr=0.05, epochs=1, seed=4, state=TrainState(best=(0.0, 1, old)))  # patience 0: nothing to restore
    assert not torch.equal(net.weights[0], old["W0"])


def test_cross_entropy_training_reports_accuracy():
    x, y = datasets.square(400, seed=0)
    # lr so small that the weights do not move: the epoch's count of correct predictions, made batch
    # by batch before each update, must equal the accuracy of the whole data at the end
    net = MLP([2, 16, 2], seed=0, init="he")
    h = train(net, x, y, loss="cross-entropy", lr=1e-12, epochs=1, batch_size=16, seed=0)
    whole = evaluate(net, x, y, "cross-entropy")
    assert h[0]["accuracy"] == whole["accuracy"] and 0 < whole["accuracy"] < 1
    net = MLP([2, 16, 2], seed=0, init="he")
    h = train(net, x, y, loss="cross-entropy", lr=0.1, epochs=5, batch_size=16, seed=0)
    assert h[-1]["loss"] < h[0]["loss"]


def test_float64_and_loss_object():
    """A loss object trains exactly as its name does, in float64 throughout."""
    from baremlp.ops import MSELoss
    x, y = datasets.linear(100, seed=0, dtype=torch.float64)
    runs = []
    for loss in (MSELoss(), "mse"):
        net = MLP([2, 3, 2], seed=0, dtype=torch.float64)
        runs.append((net, train(net, x, y, loss=loss, lr=0.03, epochs=2, seed=0)))
    (a, ha), (b, hb) = runs
    assert a.dtype == torch.float64 and all(p.dtype == torch.float64 for p in a.parameters)
    assert [r["loss"] for r in ha] == [r["loss"] for r in hb] and hb[-1]["loss"] < hb[0]["loss"]
    assert all(torch.equal(p, q) for p, q in zip(a.parameters, b.parameters))
