"""How often do the rotation-data defaults recover M W = R?  Trains the 2-3-2 network on
datasets.linear(1000, seed=s) for seeds 0 .. N−1 as one population (baremlp.studies.population: each member
exactly the run `baremlp train --dataset linear --seed s`) and counts the runs that recover R,
max|M W − R| ≤ 1e-4, and the runs left with a dead unit, each share with its 95 % Wilson interval.
This is the measurement behind docs/defaults.md.

    .venv/bin/python bench/defaults.py --seeds 1000                  # the shipped defaults
    .venv/bin/python bench/defaults.py --seeds 1000 --reg 0          # without the λ phase
    .venv/bin/python bench/defaults.py --seeds 1000 --hidden 8 --epochs 40 --reg-epochs 20
"""
import argparse
import time

from baremlp.studies import population
from baremlp.runs.settings import Settings
from baremlp.studies.intervals import wilson

TOLERANCE = 1e-4  # the promise of docs/defaults.md: max|M W − R| ≤ 1e-4 in float32


def share(k, n):
    low, high = wilson(k, n)
    return f"{k} of {n} = {100 * k / n:.1f} % (95 % Wilson interval {100 * low:.1f}–{100 * high:.1f} %)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000, help="seeds 0 .. N-1 (default: 1000)")
    parser.add_argument("--workers", type=int, default=1, help="processes to share the population among (default: 1)")
    kinds = {"lr": float, "reg": float, "epochs": int, "reg_epochs": int, "hidden": int}
    for name in kinds:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, help=f"the setting {name} (default: the shipped one)")
    args = parser.parse_args()
    s = Settings.from_dict({k: kinds[k](v) for k, v in vars(args).items() if k in kinds and v is not None})
    t0 = time.perf_counter()
    summaries = population.run(s, range(args.seeds), workers=args.workers)
    seconds = time.perf_counter() - t0
    finished = [(k, r) for k, r in enumerate(summaries) if r["final_loss"] is not None]
    misses = [(k, r) for k, r in finished if not r["effective_map_error"] <= TOLERANCE]
    dead = [r["dead_units"] for _, r in finished]
    print(f"settings: hidden {','.join(map(str, s.hidden))}, lr {s.lr}, λ {s.reg} for {s.reg_epochs} epochs, "
          f"{s.epochs} epochs; seeds 0-{args.seeds - 1}")
    if len(finished) < args.seeds:
        print(f"diverged: {args.seeds - len(finished)} runs")
    print(f"recovered R (max|M W − R| ≤ {TOLERANCE:g}): {share(len(finished) - len(misses), args.seeds)}")
    print(f"runs with a dead unit: {share(sum(d > 0 for d in dead), len(dead))}; "
          f"{sum(dead)} dead units in all, {sum(dead) / max(1, len(dead)):.3f} a run")
    large = [r for _, r in misses if r["effective_map_error"] >= 0.1]
    small = [r["effective_map_error"] for _, r in misses if r["effective_map_error"] < 0.1]
    print(f"of the misses, {len(large)} by 0.1 or more ({sum(r['dead_units'] > 0 for r in large)} of them with a dead "
          f"unit), {len(small)} by less" + (f" ({min(small):.1e} to {max(small):.1e})" if small else ""))
    print("missed: " + (", ".join(f"seed {k} ({r['effective_map_error']:.1e}, {r['dead_units']} dead)" for k, r in misses[:20])
                        + (f" and {len(misses) - 20} more" if len(misses) > 20 else "") if misses else "none"))
    ok = [r["effective_map_error"] for _, r in finished if r["effective_map_error"] <= TOLERANCE]
    if ok:
        print(f"largest error among the runs that recovered R: {max(ok):.1e}")
    print(f"time {seconds:.0f} s ({args.workers} process{'es' if args.workers > 1 else ''})")


if __name__ == "__main__":
    main()
