"""How the student's process is confined before its code runs, and how the checker keeps out of its reach
(Linux; elsewhere each step does what it can).  Standard library only: zygote.py and kernel_launch.py load
this file by path, and a notebook's kernel runs its source (kernel.py's prelude), as they do child.py.

    unshare_pids()       the next child in a new PID namespace: no process outside has a pid for it
    limit_memory(MiB)    an address-space cap
    drop_privileges()    root becomes nobody, or stays root without any capability
    set_dumpable(False)  the checker's and the zygote's fds and memory out of reach through /proc/PID
"""
import ctypes
import os
import pwd
import resource
import stat
import sys


def limit_memory(megabytes):
    """Caps the address space at what is mapped now (torch loaded) plus megabytes."""
    if megabytes <= 0:
        return
    with open("/proc/self/status") as f:
        now = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    cap = now + megabytes * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def unshare_pids():
    """Puts this process's next child in a new PID namespace (as root; else in a new user namespace too, where
    the system allows it): from there no process outside has a pid, so none can be signalled.  False if
    neither is allowed."""
    libc = ctypes.CDLL(None, use_errno=True)
    for flags in (0x20000000, 0x20000000 | 0x10000000):  # CLONE_NEWPID; CLONE_NEWPID | CLONE_NEWUSER
        if libc.unshare(flags) == 0:
            return True
    return False


def readable_by_all(*paths):
    """Whether a user other than the owner can read these folders and walk to them (checked by their bits)."""
    for path in paths:
        path = os.path.abspath(path)
        if not os.path.exists(path):
            continue
        for step in [path, *parents(path)]:
            mode = os.stat(step).st_mode
            if not mode & stat.S_IXOTH or (step == path and not mode & stat.S_IROTH):
                return False
    return True


def parents(path):
    while os.path.dirname(path) != path:
        path = os.path.dirname(path)
        yield path


def set_dumpable(on):
    """prctl(PR_SET_DUMPABLE): a process that is not dumpable cannot be reached through /proc/PID (its fds,
    its memory) by another of the same user, unless that one has CAP_SYS_PTRACE.  Returns the old value
    (None off Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        before = libc.prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
        libc.prctl(4, int(bool(on)), 0, 0, 0)  # PR_SET_DUMPABLE
        return before
    except (OSError, AttributeError):
        return None


def drop_capabilities():
    """Root that stays root loses every capability, and an exec cannot give them back (no_new_privs):
    without CAP_SYS_PTRACE it cannot reach the checker's descriptors through /proc, nor signal it."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP (past the last capability it fails: nothing to drop)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    if libc.capset(header, (ctypes.c_uint32 * 6)()) != 0:  # effective, permitted, inheritable: all empty
        raise OSError(ctypes.get_errno(), "capset failed")


def drop_privileges():
    """Run as root (an autograder's container): become nobody, so that the student's code can neither
    signal the checker nor write its files; where nobody could not load the rest of Python (a pyenv
    under /root, say), stay root without any capability.  The socket to the checker is already open."""
    if os.geteuid() != 0:
        return
    try:
        nobody = pwd.getpwnam("nobody") if readable_by_all(sys.prefix, sys.base_prefix, *sys.path[1:]) else None
    except KeyError:
        nobody = None
    if nobody is None:
        drop_capabilities()
        return
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
