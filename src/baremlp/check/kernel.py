"""A notebook submission's child: a Jupyter kernel (ipykernel through jupyter_client) that runs its cells.

The kernel runs each code cell as Jupyter does, magics included, under the cell time limit: a cell that
raises is recorded (its number, the student's line, the error) and the next one runs; a cell past the
limit is interrupted (KeyboardInterrupt, so the functions defined before it stay).  A cell that will not
stop, or that ends the kernel, is skipped by the next kernel (submission.Submission restarts).  After the
cells, child.py's serve_kernel runs in the kernel and answers calls over a Unix socket, as a .py child's.
The kernel's own output goes nowhere: not to the checker's stdout, not to its terminal.
"""
import os
import re
import socket
import subprocess
import time
from pathlib import Path

from .remote import Channel, Child, Ended, TimedOut, listener

CHILD_SOURCE = Path(__file__).with_name("child.py").read_text()
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


def prelude(megabytes):
    """The first cell the checker runs: torch loaded once, the memory cap set, before any student's cell."""
    return (f"def __baremlp_prelude():\n    n = {{'__file__': '<baremlp-child>', '__name__': 'baremlp_child'}}\n"
            f"    exec(compile({CHILD_SOURCE!r}, '<baremlp-child>', 'exec'), n)\n"
            f"    import numpy, torch\n    n['limit_memory']({int(megabytes)})\n"
            f"__baremlp_prelude()\ndel __baremlp_prelude\n")


def bootstrap(address):
    return (f"__baremlp_child = {{'__file__': '<baremlp-child>', '__name__': 'baremlp_child'}}\n"
            f"exec(compile({CHILD_SOURCE!r}, '<baremlp-child>', 'exec'), __baremlp_child)\n"
            f"__baremlp_child['serve_kernel']({address!r}, globals())\n")


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
        from jupyter_client import KernelManager
        self.path, self.limits, self.skip = Path(path), limits, skip
        self.sock = self.folder = None
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=str(self.path.resolve().parent), env={**os.environ, "MPLBACKEND": "Agg"})
        self.kc = self.km.client()
        self.kc.start_channels()

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
        error, done = self.run(prelude(self.limits.memory), min(deadline, time.monotonic() + STARTUP), False)
        if error or not done:
            raise Ended("the kernel could not load torch")
        errors = []
        for index, (number, source) in enumerate(code_cells(self.path)):
            if index in self.skip:
                continue
            self.running = index
            error, done = self.run(source, min(deadline, time.monotonic() + self.limits.timeout))
            if not done:
                raise TimedOut()
            if error:
                line, text = where(error.get("traceback", []), source)
                timed = error.get("timed_out", False)
                errors.append({"index": index, "where": f"cell {number}", "line": line, "source": text,
                               "timed_out": timed, "error": f"timed out after {self.limits.timeout:g} s" if timed
                               else f"{error.get('ename')}: {ANSI.sub('', str(error.get('evalue', ''))).splitlines()[0] if error.get('evalue') else ''}".rstrip(": ")})
        self.running = None
        self.sock, address, self.folder = listener()
        self.kc.execute(bootstrap(address), store_history=False, allow_stdin=False)
        self.sock.settimeout(max(0.01, min(deadline, time.monotonic() + STARTUP) - time.monotonic()))
        try:
            conn, _ = self.sock.accept()
        except socket.timeout:
            raise Ended("the kernel did not connect back") from None
        self.channel = Channel(conn)
        message = self.receive(min(deadline, time.monotonic() + STARTUP))
        if message.get("op") != "loaded":
            raise Ended("the kernel sent a message out of order")
        return message.get("functions") or {}, errors

    def kill(self):
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=True)
        except Exception:  # already gone
            pass
        if self.channel is not None:
            self.channel.sock.close()
        if self.sock is not None:
            self.sock.close()
            self.folder.cleanup()
