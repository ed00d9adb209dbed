#!/usr/bin/env python
"""Benchmark: the Fashion-MNIST recipe on 1 process and on N, measured in one run.

    .venv/bin/python bench/distributed.py [--nproc 2] [--epochs 30] [--repeats 2] [--out DIR]

Each repeat trains `baremlp train --recipe fashion-mnist` with one process of one thread and with
--nproc N (torchrun gives each process one thread: OMP_NUM_THREADS=1), and with --default-threads
also with one process of torch's default threads (one per core), interleaved so that machine noise
hits all alike.  (On a machine that other work shares, a process of several OpenMP threads waits at
every barrier for its slowest thread: there one thread per process is the fair comparison.)  From every run's
metrics.jsonl and summary.json it takes the test accuracy, the time per epoch (the median over the
epochs after the first, which is the burn-in) and the share of that time spent in all_reduce (rank 0's
wall time inside the call: the sum itself and the wait for the slower rank).  It prints one row per
process count: medians over the repeats with their min-max, and the time per epoch over one
process's of one thread (the ratio within each repeat, median and min-max).

Then it times the all_reduce alone: N processes (torchrun, gloo) summing a buffer of the recipe's
535,818 parameters + 2 (J and the correct count) with no training around it, 20 calls of burn-in and
200 timed; rank 0 prints the median per call.  That is the sum's own cost per step; the share
measured in training adds the wait for the slower rank.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.distributed as dist

PARAMETERS = 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10  # the recipe's 784-512-256-10 network

EXE = os.path.join(os.path.dirname(sys.executable), "baremlp")


def train(nproc, threads, epochs, folder):
    argv = [EXE, "train", "--recipe", "fashion-mnist", "--epochs", str(epochs), "--out", folder, "--quiet"]
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {}))
    subprocess.run(argv + (["--nproc", str(nproc)] if nproc > 1 else []), check=True, stdout=subprocess.DEVNULL,
                   env=env)
    with open(os.path.join(folder, "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f][1:]  # the first epoch is the burn-in
    with open(os.path.join(folder, "summary.json")) as f:
        accuracy = json.load(f)["test_accuracy"]
    seconds = statistics.median(r["time"] for r in records)
    share = sum(r.get("allreduce_time", 0.0) for r in records) / sum(r["time"] for r in records)
    return {"accuracy": accuracy, "epoch_seconds": seconds, "allreduce_share": share}


def allreduce_alone(calls=200):
    """Run by torchrun in each process: the median seconds of one all_reduce of the recipe's buffer."""
    dist.init_process_group("gloo")
    buf = torch.ones(PARAMETERS + 2)
    seconds = []
    for i in range(20 + calls):
        dist.barrier()  # every call starts together: the sum's cost, not the wait for a late rank
        t0 = time.perf_counter()
        dist.all_reduce(buf)
        seconds.append(time.perf_counter() - t0)
    if dist.get_rank() == 0:
        print(json.dumps({"allreduce_seconds": statistics.median(seconds[20:])}))
    dist.destroy_process_group()


def spread(values, fmt):
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=2, help="processes to compare with one (default: 2)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs per run (default: 30, the recipe's)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each (default: 2)")
    parser.add_argument("--default-threads", action="store_true", help="also one process of torch's default threads")
    parser.add_argument("--out", help="folder for the runs (default: a temporary one)")
    parser.add_argument("--allreduce-alone", action="store_true", help=argparse.SUPPRESS)  # torchrun's worker
    args = parser.parse_args()
    if args.allreduce_alone:
        return allreduce_alone()
    root = args.out or tempfile.mkdtemp(prefix="bench-distributed-")
    print(f"machine: {os.cpu_count()} cores; recipe fashion-mnist, {args.epochs} epochs, {args.repeats} repeats")
    configs = {"1 process, 1 thread": (1, 1), f"{args.nproc} processes, 1 thread each": (args.nproc, None),
               "1 process, default threads": (1, None)}  # None: as torch or torchrun chooses
    if not args.default_threads:
        del configs["1 process, default threads"]
    runs = {name: [] for name in configs}
    for i in range(args.repeats):
        for name, (nproc, threads) in configs.items():
            runs[name].append(train(nproc, threads, args.epochs, os.path.join(root, f"p{nproc}-t{threads}-r{i}")))
            print(f"  repeat {i + 1}, {name}: {runs[name][-1]}", flush=True)
    base = runs["1 process, 1 thread"]
    print("\n| run | test accuracy | s / epoch | × 1 process of 1 thread | share in all_reduce |")
    print("|---|---|---|---|---|")
    for name, rs in runs.items():
        ratios = [r["epoch_seconds"] / one["epoch_seconds"] for r, one in zip(rs, base)]
        print(f"| {name} | {spread([r['accuracy'] for r in rs], '.4f')} | {spread([r['epoch_seconds'] for r in rs], '.2f')} "
              f"| {spread(ratios, '.2f')} | {spread([r['allreduce_share'] for r in rs], '.1%')} |")
    alone = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                            f"--nproc-per-node={args.nproc}", __file__, "--allreduce-alone"],
                           check=True, capture_output=True, text=True)
    seconds = json.loads(alone.stdout.strip().splitlines()[-1])["allreduce_seconds"]
    print(f"\nall_reduce alone, {args.nproc} processes, {(PARAMETERS + 2) * 4 / 1e6:.2f} MB: {seconds * 1e3:.2f} ms a call "
          f"({seconds * 469:.2f} s for an epoch's 469 steps)")


if __name__ == "__main__":
    main()
