"""The adversarial gallery: student files that try to make `baremlp check` say passed with a wrong forward
(tests/check_gallery/cheats/, each file's first line says how).  Each must end with passed: false in one
JSON object on stdout and exit status 1, its forward not passed, while the control file (the same four
right functions, a right forward) passes.  The checker runs here; the student's code in its own process."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXE

from baremlp.cli import main

CHEATS = Path(__file__).resolve().parent / "check_gallery" / "cheats"
FILES = sorted(CHEATS.glob("cheat_*.py"))
ROOT = os.geteuid() == 0  # the checker then runs the student's code as nobody: it cannot signal the checker


def judged(capfd, path, *flags):
    code = main(["check", str(path), "--json", "--timeout", "2", *flags])
    out, err = capfd.readouterr()
    return code, out, err


def one_object(out):
    """stdout is exactly one JSON object (json.loads refuses anything before or after it)."""
    decoder = json.JSONDecoder()
    value, end = decoder.raw_decode(out.strip())
    assert end == len(out.strip()), out
    assert isinstance(value, dict)
    return value


def test_the_control_passes(capfd):
    code, out, _ = judged(capfd, CHEATS / "honest_correct.py")
    result = one_object(out)
    assert code == 0 and result["passed"] is True and result["score"] == 11


# what each cheat's forward is judged: for what it did, not for what it claimed
EXPECT = {"cheat_patch_checker": ("failed", ["no-bias"]), "cheat_tensor_subclass": ("failed", ["no-bias"]),
          "cheat_frame_peek": ("failed", ["no-bias"]), "cheat_atexit": ("failed", ["no-bias"]),
          "cheat_fd1_exit": ("raised", []), "cheat_systemexit": ("raised", []), "cheat_huge_output": ("raised", []),
          "cheat_proc_fd": ("failed", ["no-bias"])}


def test_every_cheat_has_its_expectation():
    assert set(EXPECT) | {"cheat_signals"} == {p.stem for p in FILES}


@pytest.mark.parametrize("path", [p for p in FILES if p.stem != "cheat_signals"], ids=lambda p: p.stem)
def test_a_cheat_is_judged_failed(capfd, path):
    code, out, _ = judged(capfd, path)
    result = one_object(out)
    assert code == 1 and result["passed"] is False and result["status"] == "failed", out
    forward = result["functions"]["forward"]
    assert (forward["status"], forward.get("mistakes")) == EXPECT[path.stem], forward
    others = {n: p["status"] for n, p in result["functions"].items() if n != "forward"}
    assert others == {"loss": "passed", "regularization": "passed", "gradients": "passed", "step": "passed"}, others


def cli(*argv, timeout=120):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    return subprocess.run([sys.executable, "-m", "baremlp", *argv], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.mark.slow  # the in-process run of the same cheat above is in the default suite
def test_a_cheat_that_writes_to_fd_1_and_exits_0_from_the_command_line():
    run = cli("check", str(CHEATS / "cheat_fd1_exit.py"), "--json")
    result = one_object(run.stdout)
    assert run.returncode == 1 and result["passed"] is False and run.stderr == ""


@pytest.mark.slow
@pytest.mark.skipif(not ROOT, reason="as the same user a process can signal the checker: docs/check.md, threat model")
def test_a_cheat_that_signals_the_checker_and_ignores_the_alarm():
    run = cli("check", str(CHEATS / "cheat_signals.py"), "--json", "--timeout", "2")
    result = one_object(run.stdout)
    assert run.returncode == 1 and result["passed"] is False
    assert result["functions"]["forward"] == {"status": "timed out", "detail": "timed out after 2 s", "mistakes": [],
                                              "conventions": [], "score": 0, "max_score": 2}


@pytest.mark.slow
def test_cheats_in_a_notebook(capfd, tmp_path):
    """The same cheats from a notebook's cells, in its kernel: fd 1, atexit, patching, a kill of the
    kernel's own group, SystemExit in forward."""
    import nbformat
    rest = (CHEATS / "_lab_rest.py").read_text()
    cells = [rest, "import atexit, json, os, signal\natexit.register(os._exit, 0)\n"
             "os.write(1, json.dumps({'passed': True}).encode())",
             "import torch\ntorch.allclose = lambda *a, **k: True",
             "try:\n    os.killpg(0, signal.SIGKILL)\nexcept OSError:\n    pass",
             "def forward(x, W, b, M, c):\n    os.write(1, b'{\"passed\": true}')\n    raise SystemExit(0)"]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = tmp_path / "cheat.ipynb"
    nbformat.write(notebook, str(path))
    code = main(["check", str(path), "--json", "--timeout", "5"])
    result = one_object(capfd.readouterr().out)
    assert code == 1 and result["passed"] is False and result["functions"]["forward"]["status"] == "raised"
    assert {n: p["status"] for n, p in result["functions"].items() if n != "forward"} == {
        "loss": "passed", "regularization": "passed", "gradients": "passed", "step": "passed"}


def test_a_cheat_cannot_write_into_the_checkers_stdout_through_proc():
    """cheat_proc_fd looks for the checker among the processes and opens /proc/PID/fd/1.  Read through a
    pipe, as a grading script reads it, stdout still holds the one true JSON object: the checker is not
    dumpable, and a student's process that stays root has no capability left to reach it anyway."""
    done = subprocess.run([EXE, "check", str(CHEATS / "cheat_proc_fd.py"), "--json", "--timeout", "2"],
                          capture_output=True, text=True, timeout=120)
    result = one_object(done.stdout)
    assert done.returncode == 1 and result["passed"] is False, done.stdout[:300]
