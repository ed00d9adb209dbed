"""What several test files share, defined here once.

pytest imports this file before the tests, with tests/ on sys.path, so a test file imports the plain
helpers by name (`from conftest import run_cli, QUIET`) and asks for the fixtures (compiled_ok) by
naming them as arguments.  Two named modules stand beside it: helpers.py (an op against its
torch.nn.functional reference, a torch.nn copy of a network, which bench/run.py imports too, and a
notebook run top to bottom) and view_helpers.py (a real server for baremlp view; importing it skips
a test file where the view extra is missing).

Numbers computed elsewhere (by another version, on another machine: tests/data/v0, figures in the
README or docs) are compared with a tolerance, rtol 1e-5: float32 rounding differs between CPUs in
the last bits, and training carries that on.  Bit for bit only when both sides are computed in the
same test run (a resumed run against an uninterrupted one, a config.json repeated)."""
import csv
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

TESTS = pathlib.Path(__file__).resolve().parent
V0 = TESTS / "data" / "v0"  # run folders and checkpoints written by baremlp 0.1.0: see its README.md
EXAMPLES = TESTS.parent / "examples"
GALLERY = TESTS / "check_gallery"  # students' files, one or more mistakes each (docs/check.md)
EXE = os.path.join(os.path.dirname(sys.executable), "baremlp")  # the console script of this interpreter's venv
# SIGINT as a terminal leaves it: a shell's background job (`make test &`) starts with it ignored,
# and a child inherits that, so the Ctrl-C a test sends would never come
AS_IN_A_TERMINAL = dict(preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
QUIET = dict(log=lambda *a: None, progress=False, plots=False)  # runs from Python, without the plots' second


# the command line, in this process and as a console script

def run_cli(capsys, *argv):
    """baremlp's main in this process: (exit status, stdout, stderr)."""
    code = _main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, argv, message=""):
    """Runs the CLI in this process; asserts exit status 2 and one line 'error: ...' holding message;
    returns that line."""
    assert _main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    return err


def _main(argv):
    from baremlp.cli import main  # here: a broken import fails the tests that use it, not the whole session
    return main(argv)


def baremlp(*argv, wait=True, stderr=subprocess.DEVNULL):
    """`baremlp *argv` as the console script: with wait, the finished process (stdout and stderr as text,
    5 minutes at most); without, the running Popen, its stdout discarded and its stderr to `stderr`
    (subprocess.PIPE to read it with communicate())."""
    if wait:
        return subprocess.run([EXE, *argv], capture_output=True, text=True, timeout=300)
    return subprocess.Popen([EXE, *argv], stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def alive(pid):
    """A process not yet gone (a zombie, its parent dead, is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def free_port():
    """A loopback port that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# run folders

def run_quietly(out, **settings):
    """runs.runner.run(Settings(**settings), out) with nothing printed and no plots."""
    from baremlp.runs import runner
    from baremlp.runs.settings import Settings
    return runner.run(Settings(**settings), str(out), **QUIET)


def summary_of(run):
    return json.loads((run / "summary.json").read_text())


def metrics_of(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def epochs_done(folder):
    """Lines of folder/metrics.jsonl: the epochs a running run has finished (0 before the file exists)."""
    try:
        return len((folder / "metrics.jsonl").read_text().splitlines())
    except FileNotFoundError:
        return 0


def read_rows(path):
    """A CSV file (a sweep's runs.csv) as a list of dicts of strings."""
    with open(path) as f:
        return list(csv.DictReader(f))


def write(path, content):
    """str/bytes: the file's text; dict: an .npz archive; ndarray: an .npy file; None: no file.
    Returns path."""
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, dict):
        np.savez(path, **content)
    elif isinstance(content, np.ndarray):
        np.save(path, content)
    return path


# fixtures

@pytest.fixture
def worked_net():
    """docs/worked-examples.md's network in float64: W = [[1, 0], [0, 1], [1, 1]], b = [0, 0, −0.5],
    M = [[1, 0, 1], [0, 1, −1]], c = [0, 0.5]."""
    import torch
    from baremlp import MLP
    net = MLP([2, 3, 2], dtype=torch.float64)
    net.load_state_dict({"W0": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), "b0": torch.tensor([0.0, 0.0, -0.5]),
                         "W1": torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]]), "b1": torch.tensor([0.0, 0.5])})
    return net


@pytest.fixture(scope="session")
def compiled_ok():
    """Skips the test where torch.compile cannot run (no C++ compiler, an unsupported platform)."""
    from baremlp import MLP
    from baremlp.engines import compiled
    if not compiled.available(MLP([2, 3, 2])):
        pytest.skip("torch.compile is unavailable on this machine")
