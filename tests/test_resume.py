"""A run killed with SIGKILL at any moment resumes to exactly the result of an uninterrupted run; a finished
run resumed with more epochs goes on to them; train_seconds counts the whole run across resumes."""
import json
import os
import signal
import subprocess
import time

import pytest
import torch

from baremlp import UsageError
from baremlp.cli import main
from baremlp.runs import checkpoint, folder as rundir, inference, runner
from baremlp.runs.settings import Settings
from baremlp.model import MLP
from conftest import AS_IN_A_TERMINAL, EXE, QUIET, baremlp, epochs_done, metrics_of, run_quietly, summary_of

ARGS = ["--n", "1000", "--epochs", "8", "--momentum", "0.5", "--quiet"]


def die_after_saving(monkeypatch, epoch):
    """RunFolder.save raises KeyboardInterrupt right after it saved `epoch`: a kill between that epoch's
    checkpoint and the next one's (until monkeypatch.undo())."""
    save = rundir.RunFolder.save

    def save_then_die(folder, net, settings, data, state, *seconds):
        save(folder, net, settings, data, state, *seconds)
        if state.epoch == epoch:
            raise KeyboardInterrupt
    monkeypatch.setattr(rundir.RunFolder, "save", save_then_die)


@pytest.mark.parametrize("kill_after", [pytest.param(0, marks=pytest.mark.slow), 3])  # 15 s each
def test_kill_9_then_resume_equals_uninterrupted(tmp_path, kill_after):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    assert baremlp("train", *ARGS, "--out", str(whole)).returncode == 0
    proc = baremlp("train", *ARGS, "--out", str(broken), wait=False)
    deadline = time.time() + 120
    while epochs_done(broken) < kill_after and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    if kill_after == 0:
        while not (broken / "config.json").exists() and time.time() < deadline:
            time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (broken / "summary.json").exists(), "the run finished before it could be killed"
    done = baremlp("train", "--resume", str(broken))
    assert done.returncode == 0, done.stderr
    a = json.loads((whole / "summary.json").read_text())
    b = json.loads((broken / "summary.json").read_text())
    assert b["final_loss"] == a["final_loss"]
    assert b["effective_map"] == a["effective_map"]
    strip = lambda rows: [{k: v for k, v in json.loads(r).items() if k != "time"} for r in rows]
    assert strip((broken / "metrics.jsonl").read_text().splitlines()) == strip((whole / "metrics.jsonl").read_text().splitlines())


def test_resume_refuses_new_settings(tmp_path):
    done = baremlp("train", "--resume", str(tmp_path), "--lr", "0.1")
    assert done.returncode == 2 and done.stderr.startswith("error: --resume continues a run with its own config.json")


def test_checkpoint_round_trip_and_atomic(tmp_path):
    net = MLP([3, 4, 2], seed=1)
    path = tmp_path / "c.safetensors"
    velocity = [torch.randn_like(p) for p in net.parameters]
    checkpoint.save(path, net, {"epoch": 3}, velocity)
    loaded, meta = checkpoint.load_model(path)
    x = torch.randn(5, 3)
    assert torch.equal(loaded(x), net(x)) and meta["epoch"] == 3 and meta["sizes"] == [3, 4, 2]
    tensors, _ = checkpoint.load(path)
    assert all(torch.equal(a, b) for a, b in zip(checkpoint.velocity_of(tensors), velocity))
    assert os.listdir(tmp_path) == ["c.safetensors"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign", "empty"])
def test_bad_checkpoint_named_in_error(tmp_path, damage):
    net = MLP([2, 3, 2], seed=0)
    path = tmp_path / "c.safetensors"
    checkpoint.save(path, net, {"epoch": 1})
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 8 + os.urandom(200))
    elif damage == "foreign":
        from safetensors.torch import save_file
        save_file({"w": torch.zeros(2)}, str(path))
    else:
        path.write_bytes(b"")
    with pytest.raises(ValueError, match=f"checkpoint '{path}' is truncated, corrupt or not a baremlp checkpoint"):
        checkpoint.load(path)


def test_ctrl_c_says_how_to_resume(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen([EXE, "train", *ARGS, "--out", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, **AS_IN_A_TERMINAL)
    deadline = time.time() + 120
    while epochs_done(run) < 2 and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == f"error: interrupted; {run} keeps the checkpoint of the last finished epoch: " \
                  f"continue with 'baremlp train --resume {run}'\n"
    _, meta = checkpoint.load(run / "checkpoint.safetensors")
    assert meta["epoch"] >= 1  # the metrics line of epoch 2 is written just before its checkpoint


def test_fresh_run_refuses_a_used_folder_and_resume_of_a_finished_run_changes_nothing(tmp_path, capsys):
    run = tmp_path / "run"  # in this process: four console-script starts cost 10 s
    assert main(["train", "--n", "50", "--epochs", "2", "--quiet", "--out", str(run)]) == 0
    before = (run / "summary.json").read_text()
    capsys.readouterr()
    assert main(["train", "--n", "50", "--epochs", "3", "--quiet", "--out", str(run)]) == 2
    assert f"{run} already holds a run: continue it with resume=True (--resume" in capsys.readouterr().err
    assert main(["train", "--resume", str(run)]) == 0
    assert "finished already" in capsys.readouterr().out
    assert (run / "summary.json").read_text() == before
    assert main(["train", "--n", "50", "--epochs", "3", "--quiet", "--out", str(run), "--overwrite"]) == 0
    assert json.loads((run / "summary.json").read_text())["epochs_run"] == 3


@pytest.mark.parametrize("die_after", [3, 5])
def test_resume_keeps_early_stoppings_best_epoch(tmp_path, monkeypatch, die_after):
    # lr 0.05 on noisy targets: the validation loss is best at epoch 1 and early stopping ends the
    # run at epoch 5; the copy below dies after epoch 3 (after its best epoch, before the stop) or
    # right after the checkpoint of epoch 5 (the stop itself, before the run's final save)
    s = Settings(dataset="linear", n=100, noise=1.0, val_fraction=0.3, lr=0.05, epochs=15, patience=4, seed=0)
    quiet = dict(progress=False, log=lambda *a: None, plots=False)
    whole_net, whole = runner.run(s, str(tmp_path / "whole"), **quiet)
    metrics = [json.loads(r) for r in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()]
    assert whole["epochs_run"] == 5 and metrics[-1]["best_epoch"] == 1

    die_after_saving(monkeypatch, die_after)
    with pytest.raises(KeyboardInterrupt):
        runner.run(s, str(tmp_path / "broken"), **quiet)
    monkeypatch.undo()
    net, broken = runner.run(s, str(tmp_path / "broken"), resume=True, **quiet)
    drop = lambda d: {k: v for k, v in d.items() if k != "train_seconds"}
    assert drop(broken) == drop(whole)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters, whole_net.parameters))
    assert (tmp_path / "broken" / "metrics.jsonl").read_text().count("\n") == 5
    # the held-out test split of a run with early stopping is evaluated whole
    report = inference.evaluate_checkpoint(tmp_path / "whole" / "checkpoint.safetensors")
    assert report["loss"] == pytest.approx(whole["test_loss"], rel=1e-6)


def test_a_checkpoint_with_half_its_early_stopping_state_is_refused(tmp_path):
    net = MLP([2, 3, 2], seed=0)
    path = tmp_path / "c.safetensors"
    checkpoint.save(path, net, {"epoch": 2, "best_epoch": 1, "best_val_loss": 0.5}, extra={"best.W0": net.weights[0]})
    tensors, meta = checkpoint.load(path)
    with pytest.raises(UsageError, match="its early-stopping weights are incomplete"):
        rundir.best_of(tensors, meta, str(path))


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
    die_after_saving(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        runner.run(s, str(tmp_path / "run"), **QUIET)
    monkeypatch.undo()
    _, meta = checkpoint.load(tmp_path / "run" / "checkpoint.safetensors")
    before = meta["train_seconds"]
    assert before >= sum(r["time"] for r in metrics_of(tmp_path / "run"))
    _, summary = runner.run(s, str(tmp_path / "run"), resume=True, **QUIET)
    assert summary["train_seconds"] >= before + sum(r["time"] for r in metrics_of(tmp_path / "run")[2:])
