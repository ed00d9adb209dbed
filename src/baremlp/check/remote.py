"""The checker's side of a submission that runs in its own process (child.py): calls out, numbers back.

    sub = Submission(path, Limits(timeout=10))    # .py: a Python subprocess; .ipynb: a Jupyter kernel
    fn = sub.function("forward")                  # a callable proxy: check.forward(fn) as for any function
    sub.close()

A proxy sends its call's arguments (tensors and arrays as float64 numbers with their dtype and shape) and
builds its answer from the numbers that come back, as fresh tensors made here: nothing the student's
code returns, patches or raises is ever run in this process.  A call that runs past the time limit, or
whose process ends, raises TimedOut or Ended (BaseExceptions, so that a check's `except Exception` around
the student's code passes them up to check.all); the next call starts a fresh process.
"""
import json
import os
import socket
import struct
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import torch

LARGEST = 64 * 2 ** 20  # bytes in one reply: 1e6 numbers in JSON, with room
DTYPES = {"float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"}


@dataclass
class Limits:
    timeout: float = 10.0      # seconds per call, per notebook cell, per top-level statement
    memory: int = 4096         # MiB the child may map beyond what it holds with torch loaded (0: no cap)
    total: float = 300.0       # seconds for the whole submission: loading, every cell and call


class TimedOut(BaseException):
    """A call (or the submission's whole time) ran out; the process was ended."""


class Ended(BaseException):
    """The student's process ended during a call, or broke the channel's protocol."""


class RemoteError(Exception):
    """The student's function raised; the message is the child's one line naming their line."""
    remote = True


class Opaque:
    """A returned value that is not numbers (a string, an object, a complex tensor): only its kind came back."""

    def __init__(self, what):
        self.what = str(what)[:80]

    def __repr__(self):
        return f"<{self.what}>"


class Channel:
    """Length-prefixed JSON over a connected socket, with a deadline on every read."""

    def __init__(self, sock):
        self.sock = sock

    def send(self, obj):
        data = json.dumps(obj).encode()
        self.sock.sendall(struct.pack(">I", len(data)) + data)

    def receive(self, deadline):
        size = struct.unpack(">I", self.exactly(4, deadline))[0]
        if size > LARGEST:
            raise Ended(f"the child sent {size} bytes at once")
        try:
            return json.loads(self.exactly(size, deadline))
        except ValueError:
            raise Ended("the child's message is not JSON") from None

    def exactly(self, n, deadline):
        chunks = b""
        while len(chunks) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout
            self.sock.settimeout(left)
            more = self.sock.recv(n - len(chunks))
            if not more:
                raise Ended("the process ended")
            chunks += more
        return chunks


def listener():
    """A Unix socket in a private folder, for the child to connect to: (socket, its path, the folder)."""
    folder = tempfile.TemporaryDirectory(prefix="baremlp-check-")
    os.chmod(folder.name, 0o700)
    path = os.path.join(folder.name, "s")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(1)
    return sock, path, folder


def encode(value, handles):
    """An argument as the child decodes it; a leaf tensor that requires grad gets a handle (handles:
    {id: (k, tensor)}) so that the child keeps one tensor for it, .grad and all, across calls."""
    if isinstance(value, torch.Tensor):
        out = {"T": "tensor", "dtype": str(value.dtype).replace("torch.", ""), "shape": list(value.shape),
               "data": value.detach().to(torch.float64).reshape(-1).tolist()}
        if value.requires_grad:
            out["handle"] = handles.setdefault(id(value), (len(handles), value))[0]
        return out
    if isinstance(value, np.ndarray):
        return {"T": "ndarray", "dtype": str(value.dtype), "shape": list(value.shape),
                "data": value.astype(np.float64).reshape(-1).tolist()}
    if isinstance(value, (list, tuple)):
        return {"T": "list" if isinstance(value, list) else "tuple", "items": [encode(v, handles) for v in value]}
    if isinstance(value, (int, float, np.number)):
        return {"T": "num", "value": float(value)}
    raise TypeError(f"cannot send {type(value).__name__} to a submission")


def decode(value, depth=0):
    """The child's encoded value, checked (dtype, shape against the count of numbers, plain numbers only),
    as a tensor, array, number, list, tuple, dict, None or Opaque made here; Ended if malformed."""
    if value is None:
        return None
    if not isinstance(value, dict) or depth > 8:
        raise Ended("the child sent a malformed value")
    kind = value.get("T")
    if kind in ("tensor", "ndarray"):
        dtype, shape, data = value.get("dtype"), value.get("shape"), value.get("data")
        if dtype not in DTYPES or not isinstance(shape, list) or not isinstance(data, list) or len(shape) > 8 \
                or not all(type(n) is int and n >= 0 for n in shape) or int(np.prod(shape)) != len(data) \
                or not all(type(x) in (int, float) for x in data) or (kind == "ndarray" and dtype == "bfloat16"):
            raise Ended("the child sent a malformed array")
        array = np.array(data, dtype=np.float64).reshape(shape)
        return torch.from_numpy(array).to(getattr(torch, dtype)) if kind == "tensor" else array.astype(dtype)
    if kind == "num":
        number, dtype = value.get("value"), value.get("dtype")
        if type(number) not in (int, float) or not (dtype == "float" or dtype in DTYPES - {"bfloat16"}):
            raise Ended("the child sent a malformed number")
        return float(number) if dtype == "float" else np.dtype(dtype).type(number)
    if kind in ("list", "tuple") and isinstance(value.get("items"), list):
        items = [decode(v, depth + 1) for v in value["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict" and isinstance(value.get("items"), list):
        return {str(k): decode(v, depth + 1) for k, v in value["items"]}
    if kind == "other":
        return Opaque(value.get("type", "object"))
    raise Ended("the child sent a value of no known kind")


class Proxy:
    """The student's function `name` as a callable here; arity() comes from the child's signature."""

    def __init__(self, submission, name, arity):
        self.submission, self.__name__ = submission, name
        import inspect
        P = inspect.Parameter
        params = [P("args", P.VAR_POSITIONAL)] if arity is None else \
            [P(f"a{i}", P.POSITIONAL_OR_KEYWORD) for i in range(arity)]
        self.__signature__ = inspect.Signature(params)

    def __call__(self, *args):
        return self.submission.call(self.__name__, args)[0]

    def call_watched(self, shapes, *args):
        """Calls it while the child keeps every float tensor made with one of shapes: those tensors."""
        return self.submission.call(self.__name__, args, watch=[list(s) for s in shapes])[1]


def apply_after(args, reply, handles):
    """Brings the call's in-place effects back: list arguments as the call left them, held tensors' values."""
    for i, items in (reply.get("lists") or {}).items():
        target = args[int(i)] if int(i) < len(args) else None
        if isinstance(target, list) and isinstance(items, list):
            old = list(target)
            target[:] = [old[e] if type(e) is int and 0 <= e < len(old) else decode(e) for e in items]
    held = {k: t for k, t in handles.values()}
    for k, enc in (reply.get("handles") or {}).items():
        tensor, value = held.get(int(k)), decode(enc)
        if tensor is not None and isinstance(value, torch.Tensor) and value.shape == tensor.shape:
            tensor.data.copy_(value.to(tensor.dtype))


class Child:
    """What a child process (PyChild, KernelChild) shares: messages over its channel, as TimedOut / Ended."""
    channel = None
    running = None  # the statement or cell running when the child was last heard from

    def receive(self, deadline):
        try:
            message = self.channel.receive(deadline)
        except socket.timeout:
            raise TimedOut() from None
        except (OSError, struct.error):
            raise Ended("the process ended") from None
        if not isinstance(message, dict):
            raise Ended("the child sent a malformed message")
        return message

    def send(self, message):
        try:
            self.channel.send(message)
        except OSError:
            raise Ended("the process ended") from None
