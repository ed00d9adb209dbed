"""Starts a notebook's Jupyter kernel in its own PID namespace, where the system allows it: from there the
notebook's code has no pid for the checker, so it cannot signal it.  The kernel spec that kernel.py writes
runs `python -I kernel_launch.py -f CONNECTION_FILE`; this process stays as the kernel's parent, passes
nothing on (an interrupt reaches the kernel through their process group), ends with it, and ends it when
the checker has gone.
"""
import os
import runpy
import signal
import sys
import time

CHILD = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py"), run_name="baremlp_child")
CONFINE = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "confine.py"), run_name="baremlp_confine")


def main():
    CONFINE["unshare_pids"]()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the checker's interrupt is for the kernel, in the same group
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[1:]])
    with open(sys.argv[sys.argv.index("-f") + 1] + ".pid", "w") as f:  # for the checker: a kernel that left this
        f.write(str(pid))                                                  # process's group still ends by its pid
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: os.kill(pid, signal.SIGKILL))
    checker = os.getppid()
    while True:  # the kernel ends with the checker, even in the middle of a student's endless cell
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        if os.getppid() != checker:
            os.kill(pid, signal.SIGKILL)
            os._exit(0)
        time.sleep(0.5)


if __name__ == "__main__":
    main()
