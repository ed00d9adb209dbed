"""The child side of `baremlp check`: the process where a student's code runs, answering calls with numbers.

Loaded by zygote.py (the process that forks one child per .py submission), or exec'd inside a notebook's
Jupyter kernel after its cells ran (serve_kernel).  It imports no baremlp module,
so nothing the student patches here reaches the checker: the checker (remote.py) sends a call's
arguments over SOCKET and reads back plain numbers, and computes every verdict in its own process.

Messages are length-prefixed JSON (4 bytes big-endian, then UTF-8).  A value is encoded as:
    {"T": "tensor"|"ndarray", "dtype": "float32", "shape": [2, 3], "data": [... float64, row-major]}
    {"T": "num", "dtype": "float"|"float32"|..., "value": 1.5}      a number
    {"T": "list"|"tuple", "items": [...]}, {"T": "dict", "items": [[key, value], ...]}, null, {"T": "other", "type": "..."}
A tensor that requires grad carries "handle": k; the child keeps one tensor per handle, so that .grad
survives from one call to the next as it does in the student's training loop (check.step calls twice).
"""
import inspect
import json
import linecache
import os
import socket
import struct
import sys
import traceback

NAMES = ("forward", "loss", "cross_entropy", "regularization", "gradients", "step")
MOST = 1_000_000  # numbers in one reply: a lab output has a few dozen


def send(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def receive(sock):
    def exactly(n):
        chunks = b""
        while len(chunks) < n:
            more = sock.recv(n - len(chunks))
            if not more:
                raise EOFError("the checker closed the channel")
            chunks += more
        return chunks
    return json.loads(exactly(struct.unpack(">I", exactly(4))[0]))


def one_line(error):
    """'TypeError: ... (line 12: u = W @ x + b)': the error and the last line of the student's code in it
    (not of numpy's or torch's: frames under Python's own folders are left out, and this file's)."""
    library = tuple({sys.prefix, sys.base_prefix, os.path.dirname(os.__file__)})
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__
              and not f.filename.startswith("<baremlp") and not f.filename.startswith(library)]
    text = str(error).splitlines()[0] if str(error) else ""
    where = ""
    if frames:
        line = frames[-1].line or linecache.getline(frames[-1].filename, frames[-1].lineno).strip()
        where = f" (line {frames[-1].lineno}: {line})" if line else f" (line {frames[-1].lineno})"
    return f"{type(error).__name__}: {text}{where}"


def encode(value, depth=0):
    """A student's value as plain numbers (module docstring); a subclass of Tensor or ndarray is read as its
    base class, so its overridden operators never run in the checker."""
    import numpy as np
    import torch
    if depth > 6:
        return {"T": "other", "type": "a value nested too deep"}
    if isinstance(value, torch.Tensor):
        t = torch.Tensor.as_subclass(value, torch.Tensor).detach().cpu()
        if t.is_complex():
            return {"T": "other", "type": "complex tensor"}
        if t.numel() > MOST:
            return {"T": "other", "type": f"tensor of {t.numel()} numbers"}
        return {"T": "tensor", "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                "data": t.to(torch.float64).reshape(-1).tolist()}
    if isinstance(value, np.ndarray):
        a = np.asarray(value).view(np.ndarray)
        if a.dtype.kind not in "fiub":
            return {"T": "other", "type": "complex array" if a.dtype.kind == "c" else f"array of {a.dtype}"}
        if a.size > MOST:
            return {"T": "other", "type": f"array of {a.size} numbers"}
        return {"T": "ndarray", "dtype": str(a.dtype), "shape": list(a.shape),
                "data": a.astype(np.float64).reshape(-1).tolist()}
    if isinstance(value, (bool, int, float, np.number)) and not isinstance(value, (complex, np.complexfloating)):
        name = "float" if type(value) in (bool, int, float) else str(np.asarray(value).dtype)
        return {"T": "num", "dtype": name, "value": float(value)}
    if isinstance(value, (list, tuple)) and len(value) <= 1000:
        return {"T": "list" if isinstance(value, list) else "tuple", "items": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict) and len(value) <= 100:
        return {"T": "dict", "items": [[str(k), encode(v, depth + 1)] for k, v in value.items()]}
    if value is None:
        return None
    return {"T": "other", "type": "complex number" if isinstance(value, complex) else type(value).__name__}


def decode(value, handles):
    """The checker's encoded argument as a fresh tensor, array, number or list."""
    import numpy as np
    import torch
    if not isinstance(value, dict):
        return value
    kind = value["T"]
    if kind in ("list", "tuple"):
        items = [decode(v, handles) for v in value["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "num":
        return value["value"]
    data = np.array(value["data"], dtype=np.float64).reshape(value["shape"]).astype(value["dtype"])
    if kind == "ndarray":
        return data
    t = torch.from_numpy(data)
    if value.get("handle") is None:
        return t
    held = handles.get(value["handle"])
    if held is None:
        held = handles[value["handle"]] = t.requires_grad_()
    return held


def watcher(shapes, seen):
    """A torch function mode that keeps a copy of every float tensor made with one of shapes (check.step's
    step-rebinds: an update computed but never written into the caller's tensor)."""
    import torch
    from torch.overrides import TorchFunctionMode

    class Watch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if isinstance(out, torch.Tensor) and list(out.shape) in shapes and out.dtype.is_floating_point:
                seen.append(out.detach().clone())
            return out
    return Watch()


def call(request, namespace, handles):
    """Runs namespace[name](*args); the reply carries the output (or the error), list arguments as they are
    after the call (an element the call replaced comes back as a value, a kept one as its index), the
    values of every held tensor (in-place updates) and the tensors watched."""
    import contextlib
    args = [decode(a, handles) for a in request["args"]]
    before = [list(a) if isinstance(a, list) else None for a in args]
    seen = []
    mode = watcher(request["watch"], seen) if request.get("watch") else contextlib.nullcontext()
    try:
        with mode:
            reply = {"ok": encode(namespace[request["name"]](*args))}
    except BaseException as e:  # SystemExit, KeyboardInterrupt: the student's, reported as their error
        reply = {"error": one_line(e)}
    reply["lists"] = {str(i): [next((j for j, old in enumerate(before[i]) if old is new), None) if any(
        old is new for old in before[i]) else encode(new) for new in a] for i, a in enumerate(args) if before[i] is not None}
    reply["handles"] = {str(k): encode(t) for k, t in handles.items()}
    reply["seen"] = [encode(t) for t in seen[:50]]
    return reply


def arity(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def found(namespace):
    """What the lab's names are bound to: {name: {"callable", "arity", "type"}}."""
    return {name: {"callable": callable(namespace[name]), "type": type(namespace[name]).__name__,
                   "arity": arity(namespace[name]) if callable(namespace[name]) else None}
            for name in NAMES if name in namespace}


def serve(sock, namespace):
    """Answers calls until the checker says exit (or goes away)."""
    handles = {}
    while True:
        try:
            request = receive(sock)
        except (EOFError, OSError):
            os._exit(0)
        if request.get("op") != "call" or request.get("name") not in namespace:
            os._exit(0)
        send(sock, call(request, namespace, handles))


def connect(path):
    """In a notebook's kernel, before its cells (and before dropping root): the socket to the checker."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


def serve_kernel(sock, namespace):
    """In a notebook's kernel, after its cells: say what the lab's names are, and serve."""
    send(sock, {"op": "loaded", "functions": found(namespace), "errors": []})
    serve(sock, namespace)
