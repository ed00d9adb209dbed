"""The run folders under --runs DIR: listed (a sweep's nested folders too), and one of them followed
as it is written, by tailing its metrics.jsonl (a line per finished epoch) until summary.json appears.
A name from a request is a path below DIR and nothing else: '..', absolute paths and links that lead
out of DIR are refused.
"""
import asyncio
import json
import os
import time

from ..errors import UsageError
from ..runs.files import read_json
from .stream import encode

DEPTH = 4           # folders below DIR searched for runs (a sweep's runs sit two or three down)
MAX_RUNS = 500      # listed at most
TAIL_POLL = 0.25    # seconds between looks at a run being written
RUNNING_SECONDS = 60  # a run without summary.json whose metrics changed this recently is "running"
COMPARED = ("final_loss", "final_objective", "effective_map_error", "test_loss", "test_accuracy", "train_accuracy",
            "train_r2", "test_r2", "dead_units", "epochs_run", "train_seconds", "diverged")


def resolve(root, name):
    """The folder of run `name` below root, or a UsageError: out of root, or not a run folder."""
    base = os.path.realpath(root)
    if not isinstance(name, str) or "\0" in name or os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
        raise UsageError(f"run {name!r} invalid: expected a folder below the runs folder")
    path = os.path.realpath(os.path.join(base, name))
    if os.path.commonpath([base, path]) != base or path == base and name not in ("", "."):
        raise UsageError(f"run {name!r} invalid: expected a folder below the runs folder")
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise FileNotFoundError(f"run {name!r} not found: no config.json there")
    return path


def status(path):
    if os.path.exists(os.path.join(path, "summary.json")):
        try:
            return "diverged" if read_json(os.path.join(path, "summary.json")).get("diverged") else "finished"
        except (UsageError, AttributeError):
            return "unreadable"
    metrics = os.path.join(path, "metrics.jsonl")
    recent = os.path.exists(metrics) and time.time() - os.path.getmtime(metrics) < RUNNING_SECONDS
    return "running" if recent else "stopped"


def info(root, path):
    """A run's line in the list: name, status, epochs done of epochs set, the settings that tell runs
    apart and, when finished, the summary's numbers worth comparing."""
    out = {"name": os.path.relpath(path, os.path.realpath(root)), "status": status(path)}
    try:
        config = read_json(os.path.join(path, "config.json"))
        out["settings"] = {k: config.get(k) for k in ("dataset", "data", "hidden", "lr", "reg", "epochs", "batch_size",
                                                      "engine", "seed", "noise")}
    except UsageError:
        out["settings"] = {}
    metrics = os.path.join(path, "metrics.jsonl")
    if os.path.exists(metrics):
        with open(metrics, "rb") as f:
            out["epochs_done"] = f.read().count(b"\n")
    if out["status"] in ("finished", "diverged"):
        try:
            summary = read_json(os.path.join(path, "summary.json"))
            out["summary"] = {k: summary[k] for k in COMPARED if k in summary}
        except UsageError:
            pass
    out["modified"] = os.path.getmtime(os.path.join(path, "config.json"))
    return out


def listing(root):
    """Every run folder below root (to DEPTH), newest first."""
    if not root:
        return []
    base, found = os.path.realpath(root), []
    for folder, subfolders, files in os.walk(base):
        depth = 0 if folder == base else os.path.relpath(folder, base).count(os.sep) + 1
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".")) if depth < DEPTH else []
        if "config.json" in files and folder != base:
            found.append(info(root, folder))
            if len(found) >= MAX_RUNS:
                break
    return sorted(found, key=lambda r: -r["modified"])


async def tail(path, stop_after=None):
    """SSE of a run folder: each epoch of metrics.jsonl as it is written ({"kind": "epoch", ...}), then
    {"done": true, "summary"} once summary.json exists.  Only whole lines are read; a file cut back (a
    resumed run) starts over with {"reset": true}."""
    metrics, summary = os.path.join(path, "metrics.jsonl"), os.path.join(path, "summary.json")
    offset, buffer, started = 0, b"", time.monotonic()
    yield "retry: 2000\n\n"
    while True:
        done = os.path.exists(summary)  # looked at first: the lines before it are all there
        size = os.path.getsize(metrics) if os.path.exists(metrics) else 0
        if size < offset:
            offset, buffer = 0, b""
            yield f"data: {encode({'reset': True, 'epoch': 0, 'objective': None})}\n\n"
        if size > offset:
            with open(metrics, "rb") as f:
                f.seek(offset)
                chunk = f.read(size - offset)
            offset += len(chunk)
            lines = (buffer + chunk).split(b"\n")
            buffer = lines.pop()
            for line in lines:
                if line.strip():
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    record.setdefault("objective", record.get("loss"))  # older run folders call J "loss"
                    yield f"data: {encode({'kind': 'epoch', **record})}\n\n"
        if done:
            try:
                result = read_json(summary)
            except UsageError as e:
                result = {"error": str(e)}
            last = {"kind": "done", "done": True, "epoch": result.get("epochs_run"),
                    "objective": result.get("final_objective"), "summary": result}
            yield f"data: {encode(last)}\n\n"
            return
        if stop_after and time.monotonic() - started > stop_after:
            return
        await asyncio.sleep(TAIL_POLL)
