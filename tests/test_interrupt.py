"""Ctrl-C at any moment of `baremlp`: one line on stderr, exit status 130, no traceback; while torch
loads (its first seconds) as much as while it trains."""
import os
import signal
import subprocess
import sys
import time

from baremlp.cli import main
from baremlp.runs import runner

EXE = os.path.join(os.path.dirname(sys.executable), "baremlp")


def test_an_interrupt_without_a_message_says_interrupted(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    assert main(["train", "--n", "50", "--epochs", "1"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def interrupt(argv, when):
    """Starts `baremlp *argv`, sends SIGINT once when() is true; returns (exit status, stderr)."""
    proc = subprocess.Popen([EXE, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not when() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "it ended before the interrupt"
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, stderr


def test_ctrl_c_while_torch_loads(tmp_path):
    t0 = time.time()
    status, stderr = interrupt(["train", "--epochs", "1000", "--out", str(tmp_path / "run")],
                               lambda: time.time() - t0 > 0.3)  # `import torch` takes seconds
    assert (status, stderr) == (130, "error: interrupted\n")
    assert not (tmp_path / "run").exists()


def test_ctrl_c_while_training(tmp_path):
    run = tmp_path / "run"
    metrics = run / "metrics.jsonl"
    status, stderr = interrupt(["train", "--epochs", "1000", "--out", str(run)],
                               lambda: metrics.exists() and metrics.read_text().count("\n") >= 1)
    assert status == 130 and "Traceback" not in stderr
    errors = [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("error:")]
    assert errors == [f"error: interrupted; {run} keeps the checkpoint of the last finished epoch: continue with "
                      f"'baremlp train --resume {run}'"]
