"""The compiled engine takes the same SGD steps as the eager loop."""
import pytest
import torch

from baremlp import MLP, datasets, train

# compiled_ok (conftest.py) skips a test where torch.compile cannot run


@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(batch_size=1, momentum=0.0, reg=0.0), marks=pytest.mark.slow),  # test_defaults runs it
    dict(batch_size=7, momentum=0.9, reg=0.01),  # 7 does not divide 200: a partial last batch
])
def test_compiled_equals_eager_after_an_epoch(compiled_ok, kwargs):
    x, y = datasets.linear(200, seed=0)
    nets = {}
    for engine in ("eager", "compiled"):
        nets[engine] = MLP([2, 3, 2], seed=0)
        h = train(nets[engine], x, y, lr=0.04, epochs=2, seed=0, engine=engine, **kwargs)
        nets[engine].history = h
    for a, b in zip(nets["eager"].parameters, nets["compiled"].parameters):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    for ra, rb in zip(nets["eager"].history, nets["compiled"].history):
        assert ra["loss"] == pytest.approx(rb["loss"], rel=1e-4)


def test_compiled_cross_entropy_accuracy(compiled_ok):
    x, y = datasets.square(256, seed=0)
    accs = []
    for engine in ("eager", "compiled"):
        net = MLP([2, 8, 2], seed=0, init="he")
        h = train(net, x, y, loss="cross-entropy", lr=0.05, epochs=1, batch_size=16, seed=0, engine=engine)
        accs.append(h[-1]["accuracy"])
    assert accs[0] == accs[1]


def test_two_custom_losses_compile_apart(compiled_ok):
    x, y = datasets.linear(50, seed=0)
    first = lambda v, t: ((v - t) ** 2).sum() / v.shape[0]
    second = lambda v, t: 100 * ((v - t) ** 2).sum() / v.shape[0]
    losses = [train(MLP([2, 3, 2], seed=0), x, y, loss=f, lr=1e-9, epochs=1, seed=0, engine="compiled")[0]["loss"]
              for f in (first, second)]
    assert losses[1] == pytest.approx(100 * losses[0], rel=1e-3)
