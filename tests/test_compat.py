"""Run folders and checkpoints written by an earlier version still work: tests/data/v0 holds a run of
baremlp 0.1.0 killed after its epoch-2 checkpoint (with momentum and early stopping), and what that
run reported uninterrupted."""
import json
import shutil
from pathlib import Path

import pytest
import torch

from baremlp.runs import checkpoint, inference, runner
from baremlp.cli import main
from baremlp.runs.folder import settings_of
from conftest import V0


@pytest.fixture
def killed(tmp_path):
    return Path(shutil.copytree(V0 / "killed_with_momentum", tmp_path / "killed"))


def test_an_old_killed_run_resumes_to_what_the_old_version_reported(killed):
    net, summary = runner.run(settings_of(killed), str(killed), resume=True, progress=False,
                              log=lambda *a: None, plots=False)
    old = json.loads((V0 / "killed_with_momentum_whole_summary.json").read_text())
    # 0.1 trained it on a CPU whose float32 rounding may differ from this one's in the last bits (another
    # x86-64 CPU computed 1.3963200378417968 for the J that 0.1 recorded as 1.3963198852539063 in
    # data/v0/linear), and four epochs of SGD carry that on: rtol 1e-5, not bit for bit (the smallest
    # value compared, val_loss, is 0.02, so atol 1e-7 adds nothing there; dead_units 0 stays exact)
    for key, value in old.items():
        torch.testing.assert_close(torch.tensor(summary[key], dtype=torch.float64),
                                   torch.tensor(value, dtype=torch.float64), rtol=1e-5, atol=1e-7, msg=key)


def test_an_old_checkpoint_evaluates_and_predicts(killed, capsys):
    path = killed / "checkpoint.safetensors"
    net, meta = checkpoint.load_model(path)
    assert meta["epoch"] == 2 and net.sizes == [2, 3, 2]
    header, rows = inference.predict(path, values="0.5,-1.2")
    expected = net(torch.tensor([[0.5, -1.2]])).tolist()[0]
    assert header == ["y1", "y2"] and rows[0] == pytest.approx(expected, rel=1e-5)
    assert main(["evaluate", "--checkpoint", str(path)]) == 0
    assert "samples: 64" in capsys.readouterr().out
