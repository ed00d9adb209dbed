"""A student's submission running in its own process: started, loaded, called, restarted, ended.

    sub = Submission("student.py", Limits())   # or an .ipynb: its cells run in a Jupyter kernel (kernel.py)
    sub.functions     {name: {"callable", "arity", "type"}}: what the lab's names are bound to at the end
    sub.errors        [{"where", "line", "source", "error", "timed_out"}]: top-level statements or cells that
                      raised, ran past the time limit, or ended the process (the rest still ran)
    sub.function(name) -> a Proxy (remote.py); sub.close()

Loading a .py file runs its top-level statements one at a time in the child (zygote.run_file), each under
the time limit.  A statement that the child cannot cut (it catches the alarm) or that ends the process is
remembered, and a fresh child runs the file again without it.  After a call times out or ends the
process, the next call starts a fresh child the same way, so the other checks are still judged.
"""
import os
import signal
import socket
import time
from pathlib import Path

from .remote import Channel, Child, Ended, Limits, Proxy, RemoteError, TimedOut, apply_after, decode, encode, listener
from .spawner import fork_child

STARTUP = 60.0  # seconds for a child to load torch and connect, on a loaded machine
RESTARTS = 4    # fresh children for one submission: one per statement that hangs or ends the process


class PyChild(Child):
    """A child forked by the zygote for a .py file; it says its pid first, and leads its own session."""

    def __init__(self, path, limits, skip):
        self.sock, address, self.folder = listener()
        self.limits, self.pid = limits, None
        try:
            fork_child({"socket": address, "path": str(Path(path).resolve()), "timeout": limits.timeout,
                        "memory": limits.memory, "total": limits.total, "skip": sorted(skip)})
        except OSError as e:
            raise Ended(str(e)) from None

    def load(self, deadline):
        """(functions, errors) once the file ran; TimedOut / Ended name the statement in self.running."""
        self.sock.settimeout(max(0.01, min(deadline, time.monotonic() + STARTUP) - time.monotonic()))
        try:
            conn, _ = self.sock.accept()
        except socket.timeout:
            raise Ended("the child process did not start") from None
        self.channel = Channel(conn)
        hello = self.receive(min(deadline, time.monotonic() + STARTUP))
        if hello.get("op") != "hello" or type(hello.get("pid")) is not int:
            raise Ended("the child did not say who it is")
        self.pid = hello["pid"]
        while True:
            message = self.receive(min(deadline, time.monotonic() + self.limits.timeout + 5))
            if message.get("op") == "running":
                self.running = message.get("index")
            elif message.get("op") == "loaded":
                return message.get("functions") or {}, [dict(e, where=None) for e in message.get("errors") or []]
            else:
                raise Ended("the child sent a message out of order")

    def kill(self):
        if self.pid is not None and self.pid > 1:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # its session: whatever the student's code started too
            except (ProcessLookupError, PermissionError):
                pass
        for s in (self.sock, self.channel.sock if self.channel else None):
            if s is not None:
                s.close()
        self.folder.cleanup()



class Submission:
    def __init__(self, path, limits=None):
        self.path, self.limits = Path(path), limits or Limits()
        self.deadline = time.monotonic() + self.limits.total
        self.skipped = {}  # statement or cell index -> why it is not run again
        self.child, self.handles = None, {}
        self.start()

    def start(self):
        """A fresh child with the file loaded; statements that hang or end the process are skipped."""
        from .kernel import KernelChild
        kind = KernelChild if self.path.suffix == ".ipynb" else PyChild
        for _ in range(RESTARTS + 1):
            child = kind(self.path, self.limits, set(self.skipped))
            try:
                self.functions, errors = child.load(self.deadline)
            except (TimedOut, Ended) as e:
                child.kill()
                if time.monotonic() >= self.deadline:
                    raise TimedOut(f"the submission's time ran out ({self.limits.total:g} s)") from None
                if child.running is None or child.running in self.skipped:
                    raise Ended(f"the file could not be loaded: {e or 'it ended the process'}") from None
                self.skipped[child.running] = (f"timed out after {self.limits.timeout:g} s" if isinstance(e, TimedOut)
                                               else "ended the process (os._exit, a signal or a crash)")
                continue
            self.child, self.handles = child, {}
            self.errors = sorted(errors + [{"index": i, "error": why, "timed_out": why.startswith("timed")}
                                           for i, why in self.skipped.items()], key=lambda e: e["index"])
            return
        raise Ended("the file could not be loaded: too many statements hang or end the process")

    def function(self, name):
        return Proxy(self, name, (self.functions.get(name) or {}).get("arity"))

    def call(self, name, args, watch=None):
        """(output, tensors watched): the call made in the child; raises RemoteError (the student's error),
        TimedOut or Ended (the child is then gone; the next call starts a fresh one)."""
        if self.child is None:
            self.start()
        child = self.child
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimedOut(f"the submission's time ran out ({self.limits.total:g} s)")
        try:
            child.send({"op": "call", "name": name, "args": [encode(a, self.handles) for a in args], "watch": watch})
            reply = child.receive(time.monotonic() + min(self.limits.timeout, left))
            apply_after(args, reply, self.handles)
            seen = [t for t in (decode(s) for s in reply.get("seen") or []) if hasattr(t, "shape")]
            if "error" in reply:
                raise RemoteError(str(reply["error"])[:500])
            return decode(reply.get("ok")), seen
        except TimedOut:
            self.end()
            raise TimedOut(f"timed out after {min(self.limits.timeout, left):g} s") from None
        except Ended:
            self.end()
            raise Ended("the process ended during the call (os._exit, a signal or a crash)") from None

    def end(self):
        if self.child is not None:
            self.child.kill()
            self.child = None

    def close(self):
        if self.child is not None:
            try:
                self.child.send({"op": "exit"})
            except Ended:
                pass
            self.end()
