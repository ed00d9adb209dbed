"""Run folders and sweeps that hold up: paths that work from any folder, a finished run extended, a
diverged run that says so and is replaced, train_seconds over the whole run, J and L under their own
names (older run folders still resume and plot), negative inputs and named outputs for predict, plain
ReLU notes, diverged runs counted in a sweep."""
import json
import os
import shutil

import numpy as np
import pytest
import torch

from baremlp import MLP, Diverged, analysis, datasets, train
from baremlp.runs import checkpoint, folder as rundir, plots, runner
from baremlp.cli import main
from baremlp.runs.settings import Settings
from conftest import QUIET, V0, metrics_of, run_quietly, summary_of


def test_a_run_folder_with_relative_paths_works_from_any_folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for name, n in (("train.csv", 60), ("test.csv", 20)):
        x = rng.normal(size=(n, 2))
        (data / name).write_text("a,b,y\n" + "".join(f"{p:.4f},{q:.4f},{p - q:.4f}\n" for p, q in x))
    monkeypatch.chdir(data)
    assert main(["train", "--data", "train.csv", "--test-data", "test.csv", "--target", "y", "--epochs", "2",
                 "--quiet", "--out", "../run"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"] == str(data / "train.csv") and config["test_data"] == str(data / "test.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", "--checkpoint", "../run/checkpoint.safetensors"]) == 0
    assert main(["train", "--resume", "../run", "--epochs", "3"]) == 0
    assert summary_of(tmp_path / "run")["epochs_run"] == 3


def test_resume_with_more_epochs_continues_to_them(tmp_path, capsys):
    """2 epochs, then extended to 4, equals 4 epochs at once (the sample order depends on seed and epoch
    alone); train_seconds counts both parts."""
    part, whole = tmp_path / "part", tmp_path / "whole"
    run_quietly(part, n=100, epochs=2)
    first = summary_of(part)["train_seconds"]
    run_quietly(whole, n=100, epochs=4)
    assert main(["train", "--resume", str(part), "--epochs", "4"]) == 0
    assert "extending" in capsys.readouterr().out
    a, b = summary_of(part), summary_of(whole)
    assert a["epochs_run"] == 4 and a["final_loss"] == b["final_loss"] and a["effective_map"] == b["effective_map"]
    assert json.loads((part / "config.json").read_text())["epochs"] == 4
    drop_time = lambda rows: [{k: v for k, v in r.items() if k != "time"} for r in rows]  # noqa: E731
    assert drop_time(metrics_of(part)) == drop_time(metrics_of(whole))
    assert a["train_seconds"] >= first + sum(r["time"] for r in metrics_of(part)[2:])
    assert main(["train", "--resume", str(part), "--epochs", "3"]) == 2
    assert "has trained 4 epochs already: epochs 3 cannot shorten it" in capsys.readouterr().err
    assert main(["train", "--resume", str(part), "--lr", "0.1"]) == 2
    assert "drop --lr (only --epochs may change, to train it further)" in capsys.readouterr().err
    # from Python: the same through the runner
    s = Settings.from_dict(json.loads((part / "config.json").read_text()))
    _, summary = runner.run(s.replace(epochs=5), str(part), resume=True, **QUIET)
    assert summary["epochs_run"] == 5 and len(metrics_of(part)) == 5


def test_a_killed_run_counts_its_seconds_before_the_kill(tmp_path, monkeypatch):
    s = Settings(n=100, epochs=4)
    save = rundir.RunFolder.save

    def save_then_die(folder, net, settings, data, state, seconds=None):
        save(folder, net, settings, data, state, seconds)
        if state.epoch == 2:
            raise KeyboardInterrupt
    monkeypatch.setattr(rundir.RunFolder, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        runner.run(s, str(tmp_path / "run"), **QUIET)
    monkeypatch.undo()
    _, meta = checkpoint.load(tmp_path / "run" / "checkpoint.safetensors")
    before = meta["train_seconds"]
    assert before >= sum(r["time"] for r in metrics_of(tmp_path / "run"))
    _, summary = runner.run(s, str(tmp_path / "run"), resume=True, **QUIET)
    assert summary["train_seconds"] >= before + sum(r["time"] for r in metrics_of(tmp_path / "run")[2:])


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
    assert rundir.RunFolder(str(tmp_path / "api")).diverged()


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


def test_predict_takes_negative_numbers_and_names_its_columns(tmp_path, capsys):
    run = tmp_path / "run"
    run_quietly(run, n=100, epochs=2)
    net, _ = checkpoint.load_model(run / "checkpoint.safetensors")
    for text, values in (("-1,2", [-1.0, 2.0]), ("-1e-3,-2.5", [-1e-3, -2.5])):
        assert main(["predict", "--checkpoint", str(run / "checkpoint.safetensors"), "--input", text]) == 0
        header, row = capsys.readouterr().out.splitlines()
        expected = net(torch.tensor([values]))[0].tolist()
        assert header == "y1,y2" and [float(v) for v in row.split(",")] == pytest.approx(expected, rel=1e-5)


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


def test_plots_read_j_under_either_name():
    assert plots.objective({"epoch": 1, "objective": 2.0}) == 2.0
    assert plots.objective({"epoch": 1, "loss": 3.0}) == 3.0  # a run folder of an older version


@pytest.mark.skipif(not os.path.isdir("/sys"), reason="needs Linux's /sys")
def test_api_refuses_an_unwritable_out_before_loading_data():
    from baremlp import UsageError
    with pytest.raises(UsageError, match="cannot write the folder /sys/x: /sys is not writable"):
        runner.run(Settings(n=20, epochs=1), "/sys/x", log=lambda *a: None)


def test_plots_name_j_l_and_the_target_columns(tmp_path, monkeypatch):
    """The figures themselves, caught before they are written: loss.png names J and L apart; function.png
    names the target column and shows it in the data's units."""
    figures = {}
    save = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.setdefault(os.path.basename(path), fig)
                        and save(fig, path))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    table = tmp_path / "t.csv"
    table.write_text("a,b,price\n" + "".join(f"{p:.4f},{q:.4f},{300 + 50 * p:.4f}\n" for p, q in x))
    runner.run(Settings(data=str(table), target="price", standardize=True, val_fraction=0.25, epochs=2),
               str(tmp_path / "run"), log=lambda *a: None, progress=False)
    legend = [t.get_text() for t in figures["loss.png"].axes[0].get_legend().get_texts()]
    assert legend == ["J = L + λ Σ‖W‖², training (mean over the epoch's steps)", "L, validation (after the epoch)"]
    ax, colorbar = figures["function.png"].axes
    assert ax.get_title() == "learned price(x); dots: price of the samples" and colorbar.get_ylabel() == "price"
    dots = ax.collections[-1].get_array()  # the samples' colours: their prices, not standardized values
    prices = 300 + 50 * x[:, 0]
    assert len(dots) == 30 and all(np.abs(prices - d).min() < 1e-3 for d in dots)
