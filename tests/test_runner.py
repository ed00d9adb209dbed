"""runs.runner.run: what a run leaves in its folder and what it says.  From Python it speaks Python: its
errors and notes name the parameter (resume=True, out, standardize=True), with the CLI flag after it in
parentheses for those who came by the command.  A diverged run says so in its folder and the next run
there replaces it; metrics.jsonl names J 'objective' and the summary keeps L and J apart; the ReLU notes
tell dead units from partly-off ones."""
import re

import numpy as np
import pytest
import torch

from baremlp import MLP, Diverged, UsageError, analysis, datasets, train
from baremlp.engines import distributed
from baremlp.cli import main
from baremlp.runs import checkpoint, runner
from baremlp.runs.folder import RunFolder
from baremlp.runs.settings import Settings
from conftest import QUIET, V0, metrics_of, run_quietly, summary_of

CLI_FLAG_OUTSIDE_PARENTHESES = re.compile(r"--[a-z-]+(?![^(]*\))")  # a --flag not inside (...)


def speaks_python(message, *parameters):
    """Every parameter named, and every --flag only in parentheses after one."""
    assert all(p in message for p in parameters), message
    assert not CLI_FLAG_OUTSIDE_PARENTHESES.search(message), message


def test_a_diverged_run_resumed_from_python(tmp_path):
    out = str(tmp_path / "run")
    with pytest.raises(Diverged):
        runner.run(Settings(lr=1e6, n=50, epochs=2), out, **QUIET)
    with pytest.raises(UsageError) as caught:
        runner.run(Settings(lr=1e6, n=50, epochs=2), out, resume=True, **QUIET)
    assert str(caught.value).startswith(f"{out} holds a run that diverged: nothing to resume; start it anew")
    speaks_python(str(caught.value), "resume=False")


def test_a_folder_that_holds_a_run(tmp_path):
    out = str(tmp_path / "run")
    runner.run(Settings(n=50, epochs=1), out, **QUIET)
    with pytest.raises(UsageError) as caught:
        runner.run(Settings(n=50, epochs=1), out, **QUIET)
    speaks_python(str(caught.value), "resume=True", "overwrite=True", "another out")


def test_the_note_on_unscaled_data(tmp_path):
    x = np.random.default_rng(0).normal(size=(60, 2)) * 1000  # far from unit scale
    np.savez(tmp_path / "big.npz", x=x, y=x[:, :1] - x[:, 1:])
    said = []
    runner.run(Settings(data=str(tmp_path / "big.npz"), epochs=1, lr=1e-9), None, log=said.append, progress=False)
    [note] = [line for line in said if line.startswith("note: unscaled")]
    speaks_python(note, "standardize=True")


def test_device_advice_under_several_processes(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(UsageError) as caught:
        distributed.check(64, "cuda:0", 2, 2)
    speaks_python(str(caught.value), "device 'cuda'")
    with pytest.raises(UsageError) as caught:
        distributed.check(64, "cuda", 2, 2)
    speaks_python(str(caught.value), "device 'cpu'")


def test_a_diverged_run_says_so_and_a_rerun_replaces_it(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--lr", "1e6", "--n", "50", "--epochs", "2", "--quiet", "--out", str(run)]) == 1
    summary = summary_of(run)
    assert summary["diverged"] is True and summary["final_loss"] is None and summary["diverged_at_step"] >= 2
    assert summary["error"].startswith("training diverged: the objective became non-finite at step ")
    capsys.readouterr()
    assert main(["train", "--resume", str(run)]) == 2
    assert f"{run} holds a run that diverged: nothing to resume; start it anew" in capsys.readouterr().err
    assert main(["train", "--n", "50", "--epochs", "2", "--out", str(run)]) == 0  # no --overwrite needed
    assert f"{run} holds a run that diverged: replacing it" in capsys.readouterr().out
    assert "diverged" not in summary_of(run) and len(metrics_of(run)) == 2
    # from Python: Diverged is raised, and the folder says so
    with pytest.raises(Diverged):
        run_quietly(tmp_path / "api", n=50, epochs=2, lr=1e6)
    assert RunFolder(str(tmp_path / "api")).diverged()


def test_metrics_name_j_objective_and_the_summary_keeps_l_and_j_apart(tmp_path):
    run = tmp_path / "run"
    run_quietly(run, n=100, epochs=2, reg_epochs=None)
    records = metrics_of(run)
    assert "loss" not in records[0] and records[0]["reg"] == 0.01
    # train() from Python keeps 'loss' (J under its older name) next to 'objective'
    x, y = datasets.linear(100, seed=0)
    history = train(MLP([2, 3, 2], seed=0), x, y, lr=0.04, epochs=2, reg=0.01, seed=0)
    assert [r["objective"] for r in records] == [r["objective"] for r in history] == [r["loss"] for r in history]
    # J − L = λ Σ‖W_i‖²_F, from the checkpoint's weights by hand
    summary = summary_of(run)
    tensors, _ = checkpoint.load(run / "checkpoint.safetensors")
    penalty = 0.01 * sum((tensors[f"W{i}"].double() ** 2).sum().item() for i in range(2))
    assert summary["final_objective"] - summary["final_loss"] == pytest.approx(penalty, rel=1e-4)


def test_relu_notes_tell_dead_units_from_partly_off_ones():
    x = torch.tensor([[1.0, 0.5], [-2.0, 0.3], [0.5, -1.0], [-0.5, 2.0]])
    net = MLP([2, 3, 2], seed=0)
    with torch.no_grad():
        net.weights[0].copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]))
        net.biases[0].copy_(torch.tensor([-1.0, 0.0, 1.0]))  # unit 1: u = −1 always; unit 2: u = x₁; unit 3: 1
    active = analysis.relu_active_fraction(net, x)
    assert active[0].tolist() == [0.0, 0.5, 1.0]
    assert analysis.dead_note(active, 4) == ("note: 1 dead unit, off on all 4 training samples (layer 1 unit 1): "
                                             "they pass no gradient, so they never learn, and add nothing to the outputs")
    report = analysis.report_map(net, x)
    assert ("note: ReLUs off on part of the data (layer 1 unit 2 off on 2 of 4 samples): there the network is not linear"
            in report)
    assert "unit 1 off" not in report and "a dead unit's weights still count in A = M W" in report


def test_the_cli_reports_dead_units_in_plain_words(capsys):
    prices = str(V0 / "prices.csv")  # unscaled targets in the hundreds kill all three units of the default net
    assert main(["train", "--data", prices, "--target", "price", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert ("note: 3 dead units, off on all 60 training samples (layer 1 unit 1; layer 1 unit 2; layer 1 unit 3): "
            "they pass no gradient" in out)
