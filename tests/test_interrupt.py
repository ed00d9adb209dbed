"""Ctrl-C at any moment of `baremlp`: one line on stderr, exit status 130, no traceback; while torch
loads (its first seconds) as much as while it trains (tests/test_resume.py: test_ctrl_c_says_how_to_resume)."""
import signal
import subprocess
import sys
import time

from baremlp.cli import main
from baremlp.runs import runner
from conftest import AS_IN_A_TERMINAL, EXE  # the console script, with SIGINT as a terminal leaves it


def test_an_interrupt_without_a_message_says_interrupted(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    assert main(["train", "--n", "50", "--epochs", "1"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def interrupt(argv, when):
    """Starts `baremlp *argv`, sends SIGINT once when() is true; returns (exit status, stderr)."""
    proc = subprocess.Popen([EXE, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            **AS_IN_A_TERMINAL)
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


# A Ctrl-C while C extensions load may be dropped by the library that was loading, or come out as
# another error (numpy: "cannot load module more than once per process"); both were seen, about
# one Ctrl-C in six in the first second.  Here an import hook plays that library, in a fresh process.
LIBRARY = """
import builtins, os, signal, sys, time
real = builtins.__import__
def loading(name, *args, **kwargs):
    if name == "torch" and not hasattr(builtins, "done"):
        builtins.done = True
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt as e:
            {what}
    return real(name, *args, **kwargs)
builtins.__import__ = loading
sys.argv = ["baremlp", "train", "--epochs", "1000"]
from baremlp.cli import main
sys.exit(main())
"""


def test_a_ctrl_c_that_a_library_drops_while_loading_still_counts():
    done = subprocess.run([sys.executable, "-c", LIBRARY.format(what="pass")], capture_output=True, text=True,
                          timeout=120, **AS_IN_A_TERMINAL)
    assert (done.returncode, done.stderr) == (130, "error: interrupted\n")


def test_a_ctrl_c_that_comes_out_as_another_error_while_loading():
    what = "raise ImportError('cannot load module more than once per process') from e"
    done = subprocess.run([sys.executable, "-c", LIBRARY.format(what=what)], capture_output=True, text=True,
                          timeout=120, **AS_IN_A_TERMINAL)
    assert (done.returncode, done.stderr) == (130, "error: interrupted\n")
