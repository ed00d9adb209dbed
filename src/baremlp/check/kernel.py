"""A notebook submission's child: a Jupyter kernel (ipykernel through jupyter_client) that runs its cells.

The kernel runs each code cell as Jupyter does, magics included, under the cell time limit: a cell that
raises is recorded (its number, the student's line, the error) and the next one runs; a cell past the
limit is interrupted (KeyboardInterrupt, so the functions defined before it stay).  A cell that will not
stop, or that ends the kernel, is skipped by the next kernel (submission.Submission restarts).  After the
cells, child.py's serve_kernel runs in the kernel and answers calls over a Unix socket, as a .py child's.
The kernel's own output goes nowhere: not to the checker's stdout, not to its terminal.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .remote import Channel, Child, Ended, TimedOut, listener

CHILD_SOURCE = Path(__file__).with_name("child.py").read_text()
CONFINE_SOURCE = Path(__file__).with_name("confine.py").read_text()
LAUNCH = str(Path(__file__).with_name("kernel_launch.py"))
STARTUP = 60.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def code_cells(path):
    """[(number, source)]: the notebook's code cells, numbered as the notebook counts all its cells (from 1)."""
    import nbformat
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as e:  # not JSON, not a notebook: the submission's fault, reported as such
        raise Ended(f"not a readable notebook: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    return [(i + 1, cell.source) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]


def kernel_pid(connection_file, wait=10.0):
    """The kernel's pid, which kernel_launch.py writes beside the connection file before any cell runs."""
    path, deadline = Path(connection_file + ".pid"), time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            return int(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.02)
    return None


def prelude(megabytes, address):
    """The first cell the checker runs, before any student's: torch loaded once, the socket to the checker
    connected (kept on sys for the last cell), the memory cap set, root dropped (confine.drop_privileges:
    then the notebook cannot signal the checker)."""
    return (f"def __baremlp_prelude():\n    n = {{'__file__': '<baremlp-child>', '__name__': 'baremlp_child'}}\n"
            f"    exec(compile({CHILD_SOURCE!r}, '<baremlp-child>', 'exec'), n)\n"
            f"    exec(compile({CONFINE_SOURCE!r}, '<baremlp-confine>', 'exec'), n)\n"
            f"    import numpy, sys, torch\n    sys._baremlp_check = n['connect']({address!r})\n"
            f"    n['limit_memory']({int(megabytes)})\n    n['drop_privileges']()\n"
            f"__baremlp_prelude()\ndel __baremlp_prelude\n")


def bootstrap():
    """The last cell: child.py's serve_kernel on the socket the prelude opened."""
    return (f"__baremlp_child = {{'__file__': '<baremlp-child>', '__name__': 'baremlp_child'}}\n"
            f"exec(compile({CHILD_SOURCE!r}, '<baremlp-child>', 'exec'), __baremlp_child)\n"
            f"import sys as __baremlp_sys\n__baremlp_child['serve_kernel'](__baremlp_sys._baremlp_check, globals())\n")


def where(traceback, source):
    """(line, the student's line) from a kernel error's traceback ('Cell In[3], line 5'), else (None, '')."""
    text = ANSI.sub("", "\n".join(traceback))
    found = re.findall(r"Cell In\[\d*\], line (\d+)", text)
    if not found:
        return None, ""
    line = int(found[-1])
    lines = source.splitlines()
    return line, lines[line - 1].strip() if 0 < line <= len(lines) else ""


class KernelChild(Child):
    def __init__(self, path, limits, skip):
        try:
            from jupyter_client import KernelManager
            from jupyter_client.kernelspec import KernelSpecManager
        except ImportError:
            raise Ended("checking a notebook needs jupyter_client, ipykernel and nbformat "
                        "(pip install 'baremlp[dev]')") from None
        self.path, self.limits, self.skip = Path(path), limits, skip
        self.cells = code_cells(self.path)  # a file that is no notebook fails here, before a kernel starts
        self.sock = self.folder = None
        self.specs = tempfile.TemporaryDirectory(prefix="baremlp-kernel-")
        spec = Path(self.specs.name) / "baremlp-check"
        spec.mkdir()
        (spec / "kernel.json").write_text(json.dumps({"argv": [sys.executable, "-I", LAUNCH, "-f", "{connection_file}"],
                                                      "display_name": "baremlp check", "language": "python"}))
        self.km = KernelManager(kernel_name="baremlp-check",
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[self.specs.name]))
        env = {k: v for k, v in os.environ.items() if k != "JPY_PARENT_PID"}
        self.km.start_kernel(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             independent=True, cwd=str(self.path.resolve().parent), env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kernel_pid = kernel_pid(self.km.connection_file)

    def run(self, code, deadline, interrupt=True):
        """Runs code in the kernel: (error content or None, finished).  At the deadline the kernel is
        interrupted; finished is False when it did not stop within 5 s after that."""
        msg_id, error, interrupted = self.kc.execute(code, store_history=True, allow_stdin=False), None, False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if interrupted or not interrupt:
                    return error, False
                self.km.interrupt_kernel()
                interrupted, deadline = True, time.monotonic() + 5
                continue
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except Exception:  # queue.Empty: nothing yet
                if not self.km.is_alive():
                    raise Ended("the kernel ended") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "error":
                error = msg["content"]
            elif msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return ({"ename": "TimeoutError", "evalue": "", "traceback": [], "timed_out": True}
                        if interrupted else error), True

    def load(self, deadline):
        try:
            self.kc.wait_for_ready(timeout=max(1.0, min(STARTUP, deadline - time.monotonic())))
        except RuntimeError:
            raise Ended("the kernel did not start") from None
        self.sock, address, self.folder = listener()
        error, done = self.run(prelude(self.limits.memory, address), min(deadline, time.monotonic() + STARTUP), False)
        if error or not done:
            raise Ended("the kernel could not load torch")
        self.sock.settimeout(5)
        try:
            self.channel = Channel(self.sock.accept()[0])
        except socket.timeout:
            raise Ended("the kernel did not connect") from None
        errors = []
        for index, (number, source) in enumerate(self.cells):
            if index in self.skip:
                continue
            self.running = index
            error, done = self.run(source, min(deadline, time.monotonic() + self.limits.timeout))
            if not done:
                raise TimedOut()
            if error:
                errors.append(self.record(index, number, source, error))
        self.running = None
        self.kc.execute(bootstrap(), store_history=False, allow_stdin=False)
        message = self.receive(min(deadline, time.monotonic() + STARTUP))
        if message.get("op") != "loaded":
            raise Ended("the kernel sent a message out of order")
        return message.get("functions") or {}, errors

    def record(self, index, number, source, error):
        """A cell's error as submission.errors holds it: its cell, the student's line, the error in one line."""
        line, text = where(error.get("traceback", []), source)
        timed = error.get("timed_out", False)
        value = ANSI.sub("", str(error.get("evalue") or "")).splitlines()
        message = f"timed out after {self.limits.timeout:g} s" if timed else \
            f"{error.get('ename')}: {value[0]}" if value else str(error.get("ename"))
        return {"index": index, "where": f"cell {number}", "line": line, "source": text, "timed_out": timed,
                "error": message}

    def kill(self):
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
        except Exception:  # already gone
            pass
        try:  # a cell that called os.setsid() left the group that shutdown_kernel ends: its pid ends it (and, as
            if self.kernel_pid and "ipykernel" in Path(f"/proc/{self.kernel_pid}/cmdline").read_text():  # the init
                os.kill(self.kernel_pid, signal.SIGKILL)  # of its PID namespace, everything it started)
        except OSError:
            pass
        Path(self.km.connection_file + ".pid").unlink(missing_ok=True)
        if self.channel is not None:
            self.channel.sock.close()
        if self.sock is not None:
            self.sock.close()
            self.folder.cleanup()
        self.specs.cleanup()
