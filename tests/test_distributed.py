"""Data-parallel training in real processes on the loopback (gloo), no mocks: several processes end
where one does, a killed rank stops the whole run with one line, and mistakes are refused at once.

Each multi-process run costs a few seconds of process start-up, so the default run keeps one test
of each kind; the others are marked slow (`pytest -m slow`)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from baremlp import UsageError
from baremlp.runs import checkpoint
from baremlp.cli import launcher, main
from baremlp.engines import distributed
from baremlp.model import MLP
from baremlp.runs.runner import run
from baremlp.runs.settings import Settings, load_recipe
from conftest import V0, alive, baremlp, epochs_done, free_port

# the case: square data, hidden 16, batch 64, momentum 0.9, 3 epochs; n = 2010 leaves
# 1608 training samples, so every epoch ends with a short batch of 8
SQUARE = dict(dataset="square", n=2010, hidden=(16,), batch_size=64, momentum=0.9, epochs=3)


def flags(settings):
    """Settings as the CLI's flags, on top of the data set's recipe."""
    out = []
    for key, value in settings.items():
        out += ["--" + key.replace("_", "-"), ",".join(map(str, value)) if isinstance(value, tuple) else str(value)]
    return out


def one_process(tmp_path, name, **settings):
    """The reference: the same settings trained in this process."""
    run(Settings.from_dict(SQUARE | settings, base=Settings.from_dict(load_recipe("square"))), str(tmp_path / name),
        progress=False, log=lambda *a: None, plots=False)
    return weights(tmp_path / name)


def weights(folder):
    tensors, meta = checkpoint.load(folder / "checkpoint.safetensors")
    return {k: t for k, t in tensors.items() if k[0] in "WbV" and k[1:].isdigit()}, meta


def max_difference(a, b):
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


def errors(stderr):
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("error:")]


def test_two_processes_end_where_one_does(tmp_path):
    done = baremlp("train", *flags(SQUARE), "--nproc", "2", "--out", str(tmp_path / "two"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("training MLP") == 1 and "on 2 processes" in done.stdout  # rank 0 alone prints
    (two, meta), (one, _) = weights(tmp_path / "two"), one_process(tmp_path, "one")
    assert meta["epoch"] == 3
    assert max_difference(two, one) < 1e-5
    start = MLP([2, 16, 2], seed=0, init="he").state_dict()  # trained weights compared, not two copies of the start
    assert max_difference(start, {k: two[k] for k in start}) > 0.1
    a = [json.loads(r) for r in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    b = [json.loads(r) for r in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    for ra, rb in zip(a, b):
        assert ra["objective"] == pytest.approx(rb["objective"], abs=1e-6)  # J of the whole batch, weighted as one process
        assert ra["accuracy"] == rb["accuracy"]  # correct predictions summed over the shards
        assert 0 < ra["allreduce_time"] < ra["time"]


def rank_pids(launcher):
    """{rank: pid} of the processes torchrun started under the launcher, read from /proc."""
    children = set()
    for task in os.listdir(f"/proc/{launcher}/task"):
        with open(f"/proc/{launcher}/task/{task}/children") as f:
            children |= {int(p) for p in f.read().split()}
    ranks = {}
    for pid in children:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        except OSError:
            continue
        if b"RANK" in env:
            ranks[int(env[b"RANK"])] = pid
    return ranks


def kill_rank(tmp_path, rank, epochs):
    """Starts a 2-process run, kills `rank` with SIGKILL after 2 epochs; returns (folder, seconds to
    the run's end, exit status, stderr)."""
    folder = tmp_path / "killed"
    proc = baremlp("train", *flags(SQUARE | {"epochs": epochs}), "--nproc", "2", "--out", str(folder), wait=False,
                   stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while epochs_done(folder) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.kill(rank_pids(proc.pid)[rank], signal.SIGKILL)
    t0 = time.time()
    try:
        _, stderr = proc.communicate(timeout=60)  # the bound: no hang
    finally:
        proc.kill()
    return folder, time.time() - t0, proc.returncode, stderr


@pytest.mark.parametrize("rank", [1, pytest.param(0, marks=pytest.mark.slow)])
def test_kill_9_of_a_rank_stops_the_run_and_resume_continues(tmp_path, rank):
    folder, seconds, status, stderr = kill_rank(tmp_path, rank, epochs=20)
    assert status == 1 and seconds < 60
    assert errors(stderr) == [errors(stderr)[0]] and errors(stderr)[0].startswith(f"error: rank {rank} of 2 (pid ")
    assert "killed by signal SIGKILL" in stderr and f"--resume {folder}" in stderr
    assert not (folder / "summary.json").exists(), "the run finished before the kill"
    _, meta = weights(folder)  # intact: it loads, at the last epoch of metrics.jsonl or (a kill between the
    # two writes) the one before, which resume cuts metrics.jsonl back to; the kill comes once epoch 2's
    # record is written, so its checkpoint may still be epoch 1's
    assert 1 <= meta["epoch"] <= epochs_done(folder) <= meta["epoch"] + 1 < 20
    # resumed with another number of processes (1), it ends where one uninterrupted process does;
    # resumed with the same number (2), where an uninterrupted run of 2 processes does, bit for bit
    other = ["--nproc", "2"] if rank == 0 else []
    done = baremlp("train", "--resume", str(folder), *other, "--quiet")
    assert done.returncode == 0, done.stderr
    resumed, meta = weights(folder)
    assert meta["epoch"] == 20 and epochs_done(folder) == 20
    if rank == 0:
        whole = baremlp("train", *flags(SQUARE | {"epochs": 20}), "--nproc", "2", "--out", str(tmp_path / "whole"))
        assert whole.returncode == 0, whole.stderr
        assert all(torch.equal(resumed[k], t) for k, t in weights(tmp_path / "whole")[0].items())
    else:
        whole = one_process(tmp_path, "whole", epochs=20)[0]
        assert max_difference({k: resumed[k] for k in whole}, whole) < 1e-5


def test_the_ranks_die_with_a_sigkilled_launcher(tmp_path):
    """torchrun's agent is the launcher process itself; SIGKILLed, it stops nothing, so each rank holds
    a lifeline to it (engines.lifeline) and dies with it, before it can finish and write summary.json."""
    folder = tmp_path / "run"
    proc = baremlp("train", *flags(SQUARE | {"epochs": 300}), "--nproc", "2", "--out", str(folder), wait=False,
                   stderr=subprocess.PIPE)
    ranks = {}
    try:
        deadline = time.time() + 120
        while epochs_done(folder) < 1 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        ranks = rank_pids(proc.pid)
        assert sorted(ranks) == [0, 1] and all(os.getpgid(pid) == pid for pid in ranks.values())  # sessions of their own
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 5
        while any(alive(pid) for pid in ranks.values()) and time.time() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in ranks.values() if alive(pid)]
        time.sleep(1)
        assert not (folder / "summary.json").exists() and epochs_done(folder) < 300
    finally:
        proc.kill()
        for pid in ranks.values():  # no orphans left behind, whatever failed
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("argv, message", [
    (["--nproc", "0"], "error: baremlp train: argument --nproc: '0' invalid: expected a whole number ≥ 1"),
    (["--nproc", "3", "--batch-size", "2"], "error: batch_size 2 is smaller than the 3 processes"),
    (["--nproc", "2", "--batch-size", "1"],
     "error: batch_size 1 with 2 processes: per-sample SGD updates after every sample, so a step has one sample"),
])
def test_bad_input_gets_one_line_and_status_2(argv, message, capsys):  # in this process: refused before torchrun
    assert main(["train", "--dataset", "square", "--epochs", "1", *argv]) == 2
    done = capsys.readouterr()
    assert done.out == "" and done.err.startswith(message) and done.err.count("\n") == 1


def test_check_steps_is_refused_before_a_process_starts_or_a_file_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(launcher, "launch", lambda *a: pytest.fail("torchrun started"))
    assert main(["train", "--dataset", "square", "--epochs", "1", "--check-steps", "--nproc", "2",
                 "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr() == ("", "error: check_steps re-evaluates every step in one process: run it without "
                                   "--nproc or torchrun\n")
    assert not (tmp_path / "run").exists()


def test_check_steps_in_a_rank_is_refused_before_the_run_folder(tmp_path, monkeypatch):
    """Under torchrun itself, each rank refuses it as it joins, before rank 0 writes anything."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(UsageError, match="check_steps re-evaluates every step in one process"):
        run(Settings(dataset="square", batch_size=64, check_steps=True), str(tmp_path / "run"), log=lambda *a: None)
    assert not (tmp_path / "run").exists()


def test_checks_in_python():
    assert distributed.check(64, "cpu", 2, 2) == torch.device("cpu")
    assert distributed.check(1, "cpu", 1, 1) == torch.device("cpu")  # one process: per-sample SGD as ever
    with pytest.raises(UsageError, match="nothing to share"):
        distributed.check(1, "cpu", 4, 4)
    with pytest.raises(UsageError, match="batch_size 3 is smaller than the 4 processes"):
        distributed.check(3, "cpu", 4, 2)
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="CUDA is not available"):
            distributed.check(64, "cuda", 2, 2)


@pytest.mark.slow
def test_torchrun_runs_the_same_steps_as_nproc(tmp_path):
    """torchrun with its multi-machine flags (one machine here) and `python -m baremlp`: the same run,
    bit for bit, as --nproc with the same number of processes."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
                "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--rdzv-id", "test",
                "-m", "baremlp", "--", "train"]  # "--": torchrun would read --n as an abbreviation of its own
    done = subprocess.run([*torchrun, *flags(SQUARE), "--out", str(tmp_path / "torchrun")], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert baremlp("train", *flags(SQUARE), "--nproc", "2", "--out", str(tmp_path / "nproc")).returncode == 0
    a, b = weights(tmp_path / "torchrun")[0], weights(tmp_path / "nproc")[0]
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_three_processes_uneven_shards_with_lambda(tmp_path):
    """Batches of 64 split 22/21/21 and the last batch of 8 split 3/3/2; λ > 0 counts once."""
    settings = SQUARE | {"reg": 0.001, "epochs": 2}
    done = baremlp("train", *flags(settings), "--nproc", "3", "--out", str(tmp_path / "three"))
    assert done.returncode == 0, done.stderr
    assert max_difference(weights(tmp_path / "three")[0], one_process(tmp_path, "one", reg=0.001, epochs=2)[0]) < 1e-5


@pytest.mark.slow
def test_the_manual_engine_on_two_processes_ends_where_one_eager_process_does(tmp_path):
    """The shards' gradients from the ops' own backwards (baremlp.backprop), summed as autograd's are."""
    settings = SQUARE | {"epochs": 2, "reg": 0.001}
    done = baremlp("train", *flags(settings), "--engine", "manual", "--nproc", "2", "--out", str(tmp_path / "two"))
    assert done.returncode == 0 and "note:" not in done.stderr, done.stderr
    assert max_difference(weights(tmp_path / "two")[0], one_process(tmp_path, "one", **settings)[0]) < 1e-5


@pytest.mark.slow
def test_early_stopping_stops_every_process_in_the_same_epoch(tmp_path):
    settings = SQUARE | {"epochs": 60, "patience": 2, "lr": 0.5}
    done = baremlp("train", *flags(settings), "--nproc", "2", "--out", str(tmp_path / "two"))
    assert done.returncode == 0, done.stderr
    one_process(tmp_path, "one", epochs=60, patience=2, lr=0.5)
    a = json.loads((tmp_path / "two" / "summary.json").read_text())
    b = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert a["epochs_run"] == b["epochs_run"] < 60
    assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-5)


@pytest.mark.cuda
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs (bench/gpu_check.sh runs it where they are)")
def test_two_gpus_with_nccl_end_where_one_does(tmp_path):
    """Each rank on the GPU of its LOCAL_RANK, the sum through NCCL."""
    done = baremlp("train", *flags(SQUARE), "--device", "cuda", "--nproc", "2", "--out", str(tmp_path / "two"))
    assert done.returncode == 0, done.stderr
    one = one_process(tmp_path, "one", device="cuda")[0]
    assert max_difference(weights(tmp_path / "two")[0], one) < 1e-5


@pytest.mark.slow
def test_an_old_run_on_raw_targets_resumes_alike_on_every_rank(tmp_path):
    """tests/data/v0/regression began before targets were standardized, so it resumes on raw targets:
    rank 0 reads that from the checkpoint and every other rank must follow it."""
    finals = []
    for nproc in ("1", "2"):
        folder = tmp_path / f"run{nproc}"
        shutil.copytree(V0 / "regression", folder)
        config = json.loads((folder / "config.json").read_text())
        config.update(data=str(V0 / "prices.csv"), batch_size=4)  # a batch that two processes can share
        (folder / "config.json").write_text(json.dumps(config))
        done = baremlp("train", "--resume", str(folder), "--epochs", "6", "--nproc", nproc)
        assert done.returncode == 0, done.stderr
        finals.append(json.loads((folder / "summary.json").read_text())["final_loss"])
    assert finals[1] == pytest.approx(finals[0], rel=1e-4)
