"""The promise of `baremlp train --dataset linear` with no options: for every seed 0-9 the 2-3-2
network recovers the rotation, max|M W − R| ≤ 1e-4 in float32 (docs/defaults.md).

It runs the default Settings through runner.run, as the CLI does, with the compiled engine: it
takes the same SGD steps as the eager one (tests/test_compiled.py) about ten times faster.  The
default run checks seeds 0-2 (2 s each on 2 cores); `pytest -m slow` checks the other seven."""
import pytest

from baremlp.runs.runner import run
from baremlp.runs.settings import Settings


@pytest.mark.parametrize("seed", [0, 1, 2, *(pytest.param(s, marks=pytest.mark.slow) for s in range(3, 10))])
def test_defaults_recover_the_rotation(seed, compiled_ok):  # compiled_ok (conftest.py): skips without torch.compile
    net, summary = run(Settings(seed=seed, engine="compiled"), progress=False, log=lambda *a: None)
    assert summary["effective_map_error"] <= 1e-4
    assert summary["dead_units"] == 0
