"""The promise of `baremlp train --dataset linear` with no options: for every seed 0-9 the 2-3-2
network recovers the rotation, max|M W − R| ≤ 1e-4 in float32 (docs/defaults.md).

It runs the defaults through the compiled engine, which takes the same SGD steps as the eager
one (tests/test_fast.py) about ten times faster, so that all ten seeds fit in CI."""
import pytest

from baremlp import MLP, analysis, datasets, fast, train
from baremlp.settings import Settings


@pytest.mark.parametrize("seed", range(10))
def test_defaults_recover_the_rotation(seed):
    s = Settings(seed=seed)
    if not fast.available(MLP([2, 3, 2])):
        pytest.skip("torch.compile is unavailable on this machine")
    x, y = datasets.linear(s.n or 1000, seed=seed)
    net = MLP([2, *s.hidden, 2], seed=seed, init=s.init, init_scale=s.init_scale)
    train(net, x, y, loss="mse", lr=s.lr, epochs=s.epochs, batch_size=s.batch_size, reg=s.reg,
          reg_epochs=s.reg_epochs, seed=seed, momentum=s.momentum, schedule=s.schedule, engine="compiled")
    assert analysis.map_error(analysis.effective_map(net)) <= 1e-4
    assert analysis.dead_units(net, x) == 0
