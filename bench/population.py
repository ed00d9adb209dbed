#!/usr/bin/env python
"""Benchmark: population training against one seed's single run, the same work measured in one run.

    .venv/bin/python bench/population.py [--sizes 1,8,64,256,1000] [--repeats 5] [--epochs E] [--json PATH]

The work is the default rotation run (`baremlp train --dataset linear`: 1000 samples, per-sample
SGD, 60 epochs, λ for the first 20), data, training and summary included:
  single     runner.run(Settings(seed=0)): one seed's run as the CLI does it (the eager loop)
  compiled   the same with engine="compiled", steady state (its compile in the burn-in)
  S seeds    population.run(Settings(), seeds=range(S)): S runs as one population, steady state
Every peer runs once before the clock (burn-in: the compiles, whose time is printed as "first
call"), then --repeats times interleaved (single, compiled, 1, 8, ..., single, ...).  The ratio
population / single is taken within each repeat; its median and min–max over the repeats are
printed.  Targets (issue 15): 64 seeds ≤ 3 × one seed's single run, 1000 seeds ≤ 20 ×.
"""
import argparse
import json
import os
import platform
import statistics
import time

import torch

from baremlp.studies import population
from baremlp.runs.runner import run
from baremlp.runs.settings import Settings

TARGETS = {64: 3.0, 1000: 20.0}  # seeds -> the most population time / single-run time


def peers(s, sizes):
    """name -> a function doing that peer's work once."""
    quiet = dict(progress=False, log=lambda *a: None)
    fns = {"single": lambda: run(s, **quiet),
           "compiled": lambda: run(s.replace(engine="compiled"), **quiet)}
    for size in sizes:
        fns[f"{size} seeds"] = lambda size=size: population.run(s, range(size))
    return fns


def measure(fns, repeats, settle=0.1):
    """Burn-in (first calls timed apart), then `repeats` interleaved rounds: {name: [seconds]}."""
    first, times = {}, {name: [] for name in fns}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - t0
        print(f"  burn-in {name}: {first[name]:.1f} s", flush=True)
    for r in range(repeats):
        for name, fn in fns.items():
            time.sleep(settle)  # off the clock: the previous peer's threads go to sleep
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
        print(f"  repeat {r + 1}/{repeats}: " + ", ".join(f"{n} {t[-1]:.1f} s" for n, t in times.items()), flush=True)
    return first, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,8,64,256,1000", help="population sizes (default: 1,8,64,256,1000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds after the burn-in (default: 5)")
    parser.add_argument("--epochs", type=int, help="fewer epochs than the default run's 60, for a quick look")
    parser.add_argument("--json", help="write every figure and the raw repeats to this file")
    args = parser.parse_args()
    sizes = [int(v) for v in args.sizes.split(",")]
    s = Settings() if args.epochs is None else Settings(epochs=args.epochs)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads for the single runs, 1 for a population; load {os.getloadavg()[0]:.1f}")
    print(f"work: the default rotation run, {s.epochs} epochs of {s.n or 1000} per-sample steps")
    first, times = measure(peers(s, sizes), args.repeats)
    single = times["single"]
    rows = []
    print("\n| seeds | time (median) | per seed | × single run: median (min–max) | × compiled single | first call | target |")
    print("|---:|---:|---:|---|---:|---:|---|")
    for name in ["single", "compiled", *(f"{size} seeds" for size in sizes)]:
        size = int(name.split()[0]) if name.endswith("seeds") else 1
        ratios = [t / base for t, base in zip(times[name], single)]
        to_compiled = statistics.median(t / c for t, c in zip(times[name], times["compiled"]))
        median = statistics.median(ratios)
        target = TARGETS.get(size) if name.endswith("seeds") else None
        verdict = "" if target is None else f"≤ {target:g} ×: {'met' if median <= target else 'MISSED'}" + (
            "" if first[name] / statistics.median(single) <= target else " (not with the compile)")
        rows.append({"peer": name, "seeds": size, "median_s": statistics.median(times[name]), "ratios": ratios,
                     "ratio_median": median, "to_compiled": to_compiled, "first_call_s": first[name],
                     "raw_s": times[name], "target": target})
        print(f"| {name} | {statistics.median(times[name]):.2f} s | {statistics.median(times[name]) / size:.3f} s | "
              f"{median:.2f} ({min(ratios):.2f}–{max(ratios):.2f}) | {to_compiled:.2f} | {first[name]:.1f} s | {verdict} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.platform(), "cpus": os.cpu_count(),
                       "torch": torch.__version__, "epochs": s.epochs, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
