"""A rank ends with the process that started it.

torchrun's agent starts the ranks, each in a session of its own, and stops them when it stops; but
an agent killed by SIGKILL stops nothing, and its ranks would train on to the end with PPID 1 and
write the run folder.  With `baremlp train --nproc N` the agent is the launcher itself (torchrun
called as a function), which says its pid in LAUNCHER; under the torchrun command the agent is the
rank's parent.  hold() ties this process to it:

    Linux     prctl(PR_SET_PDEATHSIG, SIGKILL): the kernel kills this process when its parent dies
    elsewhere a daemon thread that polls the parent pid twice a second

Both first compare the parent with the one expected: a parent gone already (during the seconds of
imports) ends this process at once.  Imports nothing heavy: the command calls it before torch loads.
"""
import ctypes
import os
import signal
import sys
import threading
import time

LAUNCHER = "BAREMLP_LAUNCHER"  # the pid of `baremlp train --nproc`, in its ranks' environment
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
held = None  # the parent this process dies with, once hold() has run


def expected_parent():
    """The pid this process must not outlive: the launcher's, else the parent's now."""
    return int(os.environ.get(LAUNCHER) or os.getppid())


def hold(parent=None, *, thread=None):
    """From now on this process dies with `parent` (default: expected_parent()); once per process.
    thread=True watches from a thread even where prctl works (tests)."""
    global held
    if held:
        return
    held = parent = parent or expected_parent()
    by_kernel = not thread and sys.platform.startswith("linux") and pdeathsig(signal.SIGKILL)
    if os.getppid() != parent:  # gone before the kernel watched: orphaned already
        gone()
    if not by_kernel:
        threading.Thread(target=watch, args=(parent,), name="baremlp-lifeline", daemon=True).start()


def pdeathsig(sig):
    """prctl(PR_SET_PDEATHSIG, sig): True where it took."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch(parent, period=0.5):
    while os.getppid() == parent:
        time.sleep(period)
    gone()


def gone():
    """The parent is gone: end now, as its SIGKILL would have ended this process with it."""
    os.kill(os.getpid(), signal.SIGKILL)
