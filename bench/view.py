#!/usr/bin/env python
"""Benchmark: baremlp view's live page against the CLI (issue 20).

    .venv/bin/python bench/view.py [--repeats 2] [--engine eager] [--epochs 60] [--updates-epochs 300]

1. The same run in the page and in the CLI: runner.run(Settings(engine=E, epochs=N)) (the CLI's run, no
   run folder, no progress bar) in this process, against a training started with POST /api/train on
   baremlp view served by another process (as `baremlp view` serves it), its event stream read here
   to the end as a page would (frames, grids, the computation graph and all).  Each side's time is its
   summary's train_seconds; the two alternate, --repeats times.  Target: page ≤ 1.2 × CLI.
2. Updates a second while the compiled engine trains the 2-3-2 network (the default rotation run with
   --updates-epochs epochs): frames received by the reader over the time from the first frame after
   the compile to the end.  Target: ≥ 20 a second.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time

from baremlp.runs.runner import run
from baremlp.runs.settings import Settings


def serve():
    """(url, process) of baremlp view in a process of its own, once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", f"from baremlp import view; view.serve(port={port}, open_browser=False)"],
                            stdout=subprocess.DEVNULL)
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return f"http://127.0.0.1:{port}", proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("baremlp view did not start")


def page_run(url, settings):
    """(the summary, the arrival times of frames whose status is running, wall seconds) of a page's run."""
    conn = http.client.HTTPConnection(url.split("//")[1], timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/api/train", json.dumps(settings), {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = json.loads(r.read())
    assert r.status == 201, body
    conn.request("GET", f"/api/train/{body['id']}/events")
    stream, frames = conn.getresponse(), []
    while True:
        line = stream.fp.readline().decode()
        if not line:
            raise RuntimeError("the stream ended before the run")
        if line.startswith("data:"):
            event = json.loads(line[5:])
            if event.get("kind") == "frame" and event["status"] == "running":
                frames.append(time.perf_counter())
            if event.get("done"):
                conn.close()
                if "summary" not in event or event.get("error"):
                    raise RuntimeError(event.get("error"))
                return event["summary"], frames, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--engine", default="eager")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--updates-epochs", type=int, default=300)
    args = ap.parse_args()
    settings = {"engine": args.engine, "epochs": args.epochs}
    ratios = []
    url, server = serve()
    try:
        for i in range(args.repeats):
            _, cli = run(Settings.from_dict(settings), progress=False, log=lambda *a: None)
            page, frames, wall = page_run(url, settings)
            assert page["effective_map"] == cli["effective_map"], "the page's run ended elsewhere than the CLI's"
            ratios.append(page["train_seconds"] / cli["train_seconds"])
            print(f"run {i + 1}: CLI {cli['train_seconds']:.2f} s, page {page['train_seconds']:.2f} s "
                  f"({wall:.2f} s from POST to the last event), {len(frames) / max(frames[-1] - frames[0], 1e-9):.1f} "
                  f"updates/s; ratio {ratios[-1]:.3f}")
        print(f"page / CLI, {args.engine} engine, {args.epochs} epochs of the rotation run: median "
              f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}) — target ≤ 1.2")
        compiled = {"engine": "compiled", "epochs": args.updates_epochs}
        page_run(url, {**compiled, "epochs": 1})  # the compile, once per process, as the CLI's first run pays it
        summary, frames, _ = page_run(url, compiled)
        rate = (len(frames) - 1) / (frames[-1] - frames[0])
        print(f"updates a second while the compiled engine trains 2-3-2 ({args.updates_epochs} epochs in "
              f"{summary['train_seconds']:.2f} s): {rate:.1f} ({len(frames)} frames) — target ≥ 20")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
