# cheat: signal the checker (found by its command line, which names this file), ignore the time limit's
# alarm, and hang
import os
import signal
import time

from _lab_rest import gradients, loss, regularization, step, wrong_forward  # noqa: F401

me = os.path.basename(__file__)


def checker_pids():
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and int(pid) != os.getpid() and me in open(f"/proc/{pid}/cmdline").read():
                yield int(pid)
        except OSError:
            pass


def forward(x, W, b, M, c):
    for pid in checker_pids():
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGSTOP):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.05)
