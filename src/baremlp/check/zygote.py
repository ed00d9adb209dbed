"""The zygote: a process with torch loaded that forks one fresh child per .py submission (for speed: a child
starts in milliseconds, not in the seconds torch takes to load).

Run by the checker as `python -I zygote.py`; it imports no baremlp module and reads one JSON line per
submission on stdin: {"socket", "path", "timeout", "memory", "skip"}.  Each child is forked twice and made
the leader of its own session: it is nobody's child (so getppid() does not lead to the checker), and the
checker ends it, and whatever it started, with one killpg.  In the child (run_file): connect to the
checker's socket and say its pid, read the file, cap the memory, drop root, run the file one top-level
statement at a time (as a notebook runs cells) under the time limit, then answer calls (child.serve).
"""
import ast
import json
import linecache
import os
import runpy
import signal
import socket
import sys
import time

CHILD = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py"), run_name="baremlp_child")
CONFINE = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "confine.py"), run_name="baremlp_confine")


class CellTimeout(BaseException):
    """A top-level statement ran past the time limit (SIGALRM)."""


def run_file(sock, path, source, timeout, skip):
    """Runs the file's top-level statements one at a time: one that raises or runs past timeout is recorded
    and the next one runs (`if __name__ == "__main__":` does not: the name is __baremlp_check__).
    Returns the namespace, or None when the file is not Python."""
    send = CHILD["send"]
    namespace = {"__name__": "__baremlp_check__", "__file__": path, "__builtins__": __builtins__}
    errors = []
    lines = source.splitlines()  # a notebook's magics pasted into a script (%matplotlib inline) read as `pass`
    magic = [i for i, line in enumerate(lines) if line.lstrip()[:1] in ("%", "!")]
    for i in magic:
        lines[i] = lines[i][:len(lines[i]) - len(lines[i].lstrip())] + "pass"
    try:
        tree = ast.parse("\n".join(lines), path)
    except SyntaxError as e:
        send(sock, {"op": "loaded", "functions": {}, "errors": [
            {"index": 0, "line": e.lineno or 0, "error": f"SyntaxError: {e.msg} (line {e.lineno}: "
                                                        f"{(e.text or '').strip()})", "timed_out": False}]})
        return None

    def alarm(signum, frame):
        raise CellTimeout(f"timed out after {timeout:g} s")
    for i, statement in enumerate(tree.body):
        if i in skip:  # it hung or ended the process in an earlier child: the checker records why
            continue
        send(sock, {"op": "running", "index": i, "line": statement.lineno})
        signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            exec(compile(ast.Module([statement], []), path, "exec"), namespace)
        except BaseException as e:  # the student's top level: recorded, and the next statement runs
            errors.append({"index": i, "line": statement.lineno, "timed_out": isinstance(e, CellTimeout),
                           "error": str(e) if isinstance(e, CellTimeout) else CHILD["one_line"](e)})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    send(sock, {"op": "loaded", "functions": CHILD["found"](namespace), "errors": errors})
    return namespace


def child(job):
    """The first fork's life: connect, start the child (in its own PID namespace where it can), say the
    child's pid to the checker, then let it run; never returns."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(job["socket"])
        isolated = CONFINE["unshare_pids"]()
        go, ready = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready)
            os.read(go, 1)  # the checker has its pid before the child says anything
            os.close(go)
            student(job, sock, isolated)
        CHILD["send"](sock, {"op": "hello", "pid": pid, "isolated": isolated})
        os.write(ready, b"1")
    finally:
        os._exit(0)


def watch(sock, total):
    """The child ends when the checker does (its socket reaches end of file), even in the middle of a student's
    endless loop; and it never takes more CPU time than the submission's whole time limit."""
    import resource
    import select
    import threading
    seconds = int(total) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))

    def look():
        while True:
            try:
                readable, _, _ = select.select([sock], [], [], 1.0)
                if readable and sock.recv(1, socket.MSG_PEEK) == b"":
                    os._exit(0)
            except OSError:  # reset by a checker that was killed, or closed
                os._exit(0)
            time.sleep(0.2)  # a message waiting is the main thread's to read
    threading.Thread(target=look, daemon=True).start()


def student(job, sock, isolated):
    """The child's life: read the file, cap the memory, drop root where it can, run the file, serve calls."""
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)  # not the zygote's command pipe
        path = job["path"]
        with open(path, encoding="utf-8", errors="replace") as f:
            source = f.read()
        linecache.cache[path] = (len(source), None, source.splitlines(True), path)  # its lines, once unreadable
        folder = os.path.dirname(path)
        os.chdir(folder)
        sys.path.insert(0, folder)  # the student's own modules next to the file
        sys.argv = [path]
        CONFINE["limit_memory"](job["memory"])
        watch(sock, job["total"])
        CONFINE["drop_privileges"]()
        namespace = run_file(sock, path, source, job["timeout"], set(job["skip"]))
        if namespace is not None:
            CHILD["serve"](sock, namespace)
    finally:
        os._exit(0)


def main():
    CONFINE["set_dumpable"](False)  # its command pipe is the checker's: out of the students' reach (/proc/PID/fd)
    import numpy  # noqa: F401  (loaded once here, and in every child forked from here)
    import torch  # noqa: F401
    while True:
        line = sys.stdin.readline()
        if not line:
            return  # the checker has gone
        try:
            job = json.loads(line)
        except ValueError:
            continue
        pid = os.fork()
        if pid == 0:
            child(job)
        os.waitpid(pid, 0)  # the first fork ends at once; its child belongs to init now


if __name__ == "__main__":
    main()
