"""The run folders under --runs DIR: listed (a sweep's nested folders too), and one of them followed
as it is written, by tailing its metrics.jsonl (a line per finished epoch) until summary.json appears.
A name from a request is a path below DIR and nothing else: '..', absolute paths and links that lead
out of DIR are refused.

A run folder is someone else's files, so nothing in one may stall the server: only regular files are
opened (a FIFO or a device is skipped: opening one waits forever), config.json and summary.json are read
up to READ_MAX bytes, metrics.jsonl a BLOCK at a time in a worker thread and at most its last
TAIL_MAX bytes per request, and JSON that is not an object is skipped and logged once per file.
"""
import asyncio
import json
import logging
import os
import stat
import time

from ..errors import UsageError
from .stream import encode

DEPTH = 4           # folders below DIR searched for runs (a sweep's runs sit two or three down)
MAX_RUNS = 500      # listed at most
TAIL_POLL = 0.25    # seconds between looks at a run being written
RUNNING_SECONDS = 60  # a run without summary.json whose metrics changed this recently is "running"
READ_MAX = 1 << 20   # bytes of a config.json or summary.json read at most
BLOCK = 1 << 20      # bytes of metrics.jsonl read at a time, off the event loop
TAIL_MAX = 16 << 20  # bytes of metrics.jsonl a request streams at most: a longer file, from its last TAIL_MAX
COMPARED = ("final_loss", "final_objective", "effective_map_error", "test_loss", "test_accuracy", "train_accuracy",
            "train_r2", "test_r2", "dead_units", "epochs_run", "train_seconds", "diverged")
log = logging.getLogger("baremlp.view")
said = set()  # the files already logged as holding something other than JSON objects


def say_once(path, what):
    if path not in said:
        said.add(path)
        log.warning("%s: %s, skipped", path, what)


def size_of(path):
    """The size of a regular file at path, or None (missing, a folder, a FIFO, a device)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def read_bytes(path, offset=0, limit=READ_MAX):
    """Up to limit bytes of a regular file from offset, or None: opened without waiting (O_NONBLOCK) and
    checked again once open, so that a file swapped for a FIFO cannot hang the reader either."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.pread(fd, limit, offset)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_object(path):
    """The JSON object in a small regular file, or None (missing, special, not JSON, not an object: logged)."""
    raw = read_bytes(path) if size_of(path) is not None else None
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        say_once(path, "not a JSON object")
        return None
    return value


def resolve(root, name):
    """The folder of run `name` below root, or a UsageError: out of root, or not a run folder."""
    base = os.path.realpath(root)
    if not isinstance(name, str) or "\0" in name or os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
        raise UsageError(f"run {name!r} invalid: expected a folder below the runs folder")
    path = os.path.realpath(os.path.join(base, name))
    if os.path.commonpath([base, path]) != base or path == base and name not in ("", "."):
        raise UsageError(f"run {name!r} invalid: expected a folder below the runs folder")
    if size_of(os.path.join(path, "config.json")) is None:
        raise FileNotFoundError(f"run {name!r} not found: no config.json there")
    return path


def status(path):
    summary = os.path.join(path, "summary.json")
    if size_of(summary) is not None:
        result = read_object(summary)
        return "unreadable" if result is None else "diverged" if result.get("diverged") else "finished"
    metrics = os.path.join(path, "metrics.jsonl")
    recent = size_of(metrics) is not None and time.time() - os.path.getmtime(metrics) < RUNNING_SECONDS
    return "running" if recent else "stopped"


def epochs_done(metrics):
    """Epochs in metrics.jsonl: its last whole line's epoch (a long file is not read), else its lines."""
    size = size_of(metrics)
    if not size:
        return 0 if size == 0 else None
    end = read_bytes(metrics, max(0, size - 65536), 65536) or b""
    try:
        return int(json.loads(end[:end.rindex(b"\n")].rsplit(b"\n", 1)[-1])["epoch"])
    except (ValueError, TypeError, KeyError, IndexError):  # rindex: no whole line yet
        return (read_bytes(metrics, 0, size) or b"").count(b"\n") if size <= READ_MAX else None


def info(root, path):
    """A run's line in the list: name, status, epochs done of epochs set, the settings that tell runs
    apart and, when finished, the summary's numbers worth comparing."""
    out = {"name": os.path.relpath(path, os.path.realpath(root)), "status": status(path)}
    config = read_object(os.path.join(path, "config.json")) or {}
    out["settings"] = {k: config[k] for k in ("dataset", "data", "hidden", "lr", "reg", "epochs", "batch_size",
                                              "engine", "seed", "noise") if k in config}
    out["epochs_done"] = epochs_done(os.path.join(path, "metrics.jsonl"))
    if out["status"] in ("finished", "diverged"):
        summary = read_object(os.path.join(path, "summary.json")) or {}
        out["summary"] = {k: summary[k] for k in COMPARED if k in summary}
    out["modified"] = os.path.getmtime(os.path.join(path, "config.json"))
    return out


def listing(root):
    """Every run folder below root (to DEPTH), newest first: blocking file work, for a worker thread."""
    if not root:
        return []
    base, found = os.path.realpath(root), []
    for folder, subfolders, files in os.walk(base):
        depth = 0 if folder == base else os.path.relpath(folder, base).count(os.sep) + 1
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".")) if depth < DEPTH else []
        if "config.json" in files and folder != base and size_of(os.path.join(folder, "config.json")) is not None:
            try:
                found.append(info(root, folder))
            except OSError:  # removed while it was being read
                continue
            if len(found) >= MAX_RUNS:
                break
    return sorted(found, key=lambda r: -r["modified"])


def events_of(metrics, lines):
    """The SSE lines of metrics.jsonl's whole lines: JSON objects only (anything else logged once)."""
    out = []
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            say_once(metrics, "a line that is not a JSON object")
            continue
        record.setdefault("objective", record.get("loss"))  # older run folders call J "loss"
        out.append(f"data: {encode({**record, 'kind': 'epoch'})}\n\n")
    return out


def line_start(metrics, offset):
    """The offset of the first whole line at or after offset."""
    head = read_bytes(metrics, offset, 65536) or b""
    return offset + head.index(b"\n") + 1 if b"\n" in head else offset


def read_lines(metrics, offset, size, buffer):
    """(new offset, the SSE lines of the whole lines read, the part line left) from one BLOCK at offset."""
    chunk = read_bytes(metrics, offset, min(BLOCK, size - offset))
    if not chunk:
        return size, [], buffer
    lines = (buffer + chunk).split(b"\n")
    return offset + len(chunk), events_of(metrics, lines[:-1]), lines[-1]


async def tail(path, stop_after=None, closing=None):
    """SSE of a run folder: each epoch of metrics.jsonl as it is written ({"kind": "epoch", ...}), then
    {"done": true, "summary"} once summary.json exists.  Only whole lines are read; a file cut back (a
    resumed run) starts over with {"reset": true}; a folder deleted ends it with {"done": true, "error"}.
    closing: a threading.Event that ends it (the server is shutting down)."""
    metrics, summary = os.path.join(path, "metrics.jsonl"), os.path.join(path, "summary.json")
    offset, buffer, started = 0, b"", time.monotonic()
    yield "retry: 2000\n\n"
    while True:
        if size_of(os.path.join(path, "config.json")) is None:
            yield f"data: {encode({'kind': 'done', 'done': True, 'epoch': None, 'objective': None, 'error': 'the run folder was deleted'})}\n\n"
            return
        done = size_of(summary) is not None  # looked at first: the lines before it are all there
        size = size_of(metrics) or 0
        if size < offset:
            offset, buffer = 0, b""
            yield f"data: {encode({'reset': True, 'epoch': 0, 'objective': None})}\n\n"
        if offset == 0 and size > TAIL_MAX:  # a long file: its last TAIL_MAX bytes, from a whole line
            offset = await asyncio.to_thread(line_start, metrics, size - TAIL_MAX)
            yield f"data: {encode({'kind': 'skipped', 'bytes': offset, 'epoch': None, 'objective': None})}\n\n"
        while offset < size:  # a BLOCK at a time, in a worker thread: the event loop serves others meanwhile
            offset, lines, buffer = await asyncio.to_thread(read_lines, metrics, offset, size, buffer)
            for line in lines:
                yield line
        if done:
            result = await asyncio.to_thread(read_object, summary)
            result = result if result is not None else {"error": "summary.json is not a JSON object"}
            last = {"kind": "done", "done": True, "epoch": result.get("epochs_run"),
                    "objective": result.get("final_objective"), "summary": result}
            yield f"data: {encode(last)}\n\n"
            return
        if stop_after and time.monotonic() - started > stop_after or closing is not None and closing.is_set():
            return
        await asyncio.sleep(TAIL_POLL)
