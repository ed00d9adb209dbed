"""engines.lifeline in real processes: a child that holds its lifeline dies with its parent, by the
kernel (prctl) or by the watching thread, and one whose parent is gone already dies at once.
(tests/test_distributed.py kills a real `baremlp train --nproc 2` launcher.)"""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import alive

CHILD = "import sys, time; from baremlp.engines import lifeline; lifeline.hold({args}); print('held', flush=True); time.sleep(60)"
PARENT = ("import subprocess, sys; child = subprocess.Popen([sys.executable, '-c', sys.argv[1]], stdout=subprocess.PIPE, "
          "text=True); print(child.pid, flush=True); print(child.stdout.readline().strip(), flush=True); "
          "import time; time.sleep(60)")


def gone_within(pid, seconds):
    deadline = time.time() + seconds
    while alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    return not alive(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("args", ["", "thread=True"])  # the kernel's prctl, and the thread that watches
def test_a_child_dies_with_its_parent(args):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD.format(args=args)], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "held"
        os.kill(parent.pid, signal.SIGKILL)  # nothing of the parent's runs after this
        parent.wait()
        assert gone_within(child, 3)
    finally:
        parent.kill()
        if alive(child):
            os.kill(child, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_child_whose_launcher_is_gone_already_dies_at_once():
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that is no one's parent now
    child = subprocess.run([sys.executable, "-c", CHILD.format(args="")], capture_output=True, text=True, timeout=60,
                           env=os.environ | {"BAREMLP_LAUNCHER": str(gone.pid)})
    assert child.returncode == -signal.SIGKILL and child.stdout == ""
