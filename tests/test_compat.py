"""Run folders and checkpoints written by an earlier version still work: tests/data/v0 holds a run of
baremlp 0.1.0 killed after its epoch-2 checkpoint (with momentum and early stopping) and what that
run reported uninterrupted, and a run killed after epoch 3 whose records still call J 'loss'.
(tests/test_real_scale_regression.py checks data/v0/regression, trained before targets were scaled.)

What 0.1 computed, it computed on another CPU, whose float32 rounding may differ from this one's in the
last bits: its numbers are compared with rtol 1e-5, not bit for bit."""
import json
import shutil
from pathlib import Path

import pytest
import torch

from baremlp.runs import checkpoint, inference, plots, runner
from baremlp.cli import main
from baremlp.runs.folder import settings_of
from conftest import V0, metrics_of, run_quietly, summary_of


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


def test_a_killed_run_of_the_previous_version_resumes_evaluates_and_plots(tmp_path, capsys):
    """tests/data/v0/linear: epochs 1-3 of 4 trained by the code of b88c654 (records say 'loss' for J)."""
    old, fresh = tmp_path / "old", tmp_path / "fresh"
    shutil.copytree(V0 / "linear", old)
    assert main(["train", "--resume", str(old)]) == 0
    run_quietly(fresh, n=100, epochs=4)
    records, new = metrics_of(old), metrics_of(fresh)
    # epochs 1-3 (and the checkpoint that epoch 4 starts from) were computed by 0.1, on a CPU whose float32
    # rounding may differ from this one's in the last bits (epoch 1's J: 1.3963198852539063 there and on the
    # project's machines, 1.3963200378417968 on another x86-64 CPU): rtol 1e-5, not bit for bit
    old_j = [r.get("loss") for r in records[:3]]  # the same J, under its older name
    assert [r["objective"] for r in new[:3]] == pytest.approx(old_j, rel=1e-5)
    assert records[3]["objective"] == pytest.approx(new[3]["objective"], rel=1e-5)
    assert summary_of(old)["final_loss"] == pytest.approx(summary_of(fresh)["final_loss"], rel=1e-5)
    assert summary_of(old)["train_seconds"] >= sum(r["time"] for r in records)
    assert (old / "loss.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(old / "checkpoint.safetensors")]) == 0
    assert f"loss: {summary_of(old)['test_loss']:.6g}" in capsys.readouterr().out
    assert [plots.objective(r) for r in records] == pytest.approx([r["objective"] for r in new], rel=1e-5)
