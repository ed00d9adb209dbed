"""Sweeps: a grid of settings, several seeds each, one run folder per point (the experiments build on it).

Each run of a sweep is an ordinary run folder under OUT/runs/, named after its settings, so an
interrupted sweep continues where it stopped: runs whose summary.json exists are read, not redone.
After every finished run, OUT/runs.csv (one row per run) is rewritten atomically; at the end
OUT/summary.md gives the mean and spread of every configuration and OUT/heatmap.png the mean
final loss (or accuracy) over the first two swept settings.  A grid of seeds, lr, λ and noise alone
trains as one population (baremlp.studies.population) into the same folders, and runs.csv is written once.
"""
import itertools
import math
import multiprocessing
import os
import statistics

import torch

from ..errors import UsageError
from ..runs.files import write_atomic, write_csv, write_json
from ..runs.folder import RunFolder, settings_of
from ..runs.runner import run_or_read
from ..runs.settings import Settings
from .population import can_train, run_folders

METRICS = ("final_loss", "effective_map_error", "val_accuracy", "test_accuracy", "test_loss", "dead_units", "train_seconds")


def grid(base: Settings, values: dict, seeds: int):
    """Every combination of the swept values (a dict of setting -> list), each for seeds 0..seeds-1."""
    names = list(values)
    for combo in itertools.product(*(values[n] for n in names)):
        for seed in range(seeds):
            yield base.replace(**dict(zip(names, combo)), seed=seed)


def run_name(s: Settings, names):
    parts = [f"{n}={'x'.join(map(str, getattr(s, n))) if n == 'hidden' else getattr(s, n)}" for n in names]
    return "_".join(parts + [f"seed={s.seed}"])


def _one(job):
    """Runs (or reads back) one run folder; in a worker process, one thread each.  A diverged run (a
    large lr) is an expected outcome of a grid point: recorded, not fatal."""
    torch.set_num_threads(1)
    return run_or_read(*job)


def check_folder(s: Settings, folder):
    """A run folder left by an earlier sweep must hold the same settings, or its results are not this run's."""
    if not RunFolder(folder).holds_run():
        return
    old = settings_of(folder)
    if old != s:
        diff = ", ".join(f"{k} {getattr(old, k)!r} ≠ {getattr(s, k)!r}" for k in s.to_dict() if getattr(old, k) != getattr(s, k))
        raise UsageError(f"{folder} was trained with other settings ({diff}): use a new --out for a changed sweep")


def sweep(base: Settings, values: dict, seeds: int, out, *, workers=1, population=True, log=print):
    """Runs the grid into out; returns the list of result rows (settings swept, seed, metrics).
    Where the grid varies only what a population can (seeds, lr, λ, noise), its runs are trained
    together as one (baremlp.studies.population) unless population=False: the same results, far sooner."""
    names = list(values)
    together = population and can_train(base, names)
    jobs = [(s, os.path.join(out, "runs", run_name(s, names))) for s in grid(base, values, seeds)]
    for s, folder in jobs:
        check_folder(s, folder)
    os.makedirs(os.path.join(out, "runs"), exist_ok=True)
    write_json(os.path.join(out, "sweep.json"), {"base": base.to_dict(), "values": values, "seeds": seeds})
    done = sum(RunFolder(f).finished() for _, f in jobs)
    log(f"sweep: {len(jobs)} runs ({done} already done) into {out}" + (", trained as one population" if together else ""))
    rows = []
    ctx = multiprocessing.get_context("spawn")  # torch's thread pools do not survive fork
    with (ctx.Pool(workers) if workers > 1 and not together else _Serial()) as pool:
        summaries = run_folders(jobs, workers=workers) if together else pool.imap(_one, jobs)
        for (s, folder), summary in zip(jobs, summaries):
            row = {n: ("x".join(map(str, getattr(s, n))) if n == "hidden" else getattr(s, n)) for n in names}
            row["seed"] = s.seed
            row.update({m: summary.get(m) for m in (*METRICS, "diverged_at_step") if m in summary})
            rows.append(row)
            if not together or len(rows) == len(jobs):  # a population's rows come all at once: one write
                write_rows(os.path.join(out, "runs.csv"), rows)
            outcome = (f"final loss {summary['final_loss']:.3g}" if summary["final_loss"] is not None
                       else f"diverged at step {summary['diverged_at_step']}")
            log(f"  [{len(rows)}/{len(jobs)}] {run_name(s, names)}: {outcome}")
    table = aggregate(rows, names)
    write_atomic(os.path.join(out, "summary.md"), markdown(table, names))
    if table:
        _heatmap(table, names, os.path.join(out, "heatmap.png"))
    return rows


class _Serial:
    """Stands in for a process pool when workers=1: runs in this process, in order."""
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap(self, fn, jobs):
        return map(fn, jobs)


def write_rows(path, rows):
    """rows: dicts; the columns are every key that appears, in order of first appearance."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    write_csv(path, columns, [[row.get(c) for c in columns] for row in rows])


def aggregate(rows, names):
    """Mean and standard deviation over seeds of every metric, per configuration, over the runs that did
    not diverge; how many did is counted apart."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[n] for n in names), []).append(row)
    table = []
    for key, group in groups.items():
        diverged = sum(r.get("diverged_at_step") is not None for r in group)
        entry = dict(zip(names, key), runs=len(group), diverged=diverged)
        for m in METRICS:
            vals = [r[m] for r in group if r.get(m) is not None and math.isfinite(r[m])]
            if vals:
                entry[m] = (statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0)
        table.append(entry)
    return table


def markdown(table, names):
    metrics = [m for m in METRICS if any(m in e for e in table)]
    lines = ["| " + " | ".join(names + ["runs"] + metrics) + " |", "|" + "---|" * (len(names) + 1 + len(metrics))]
    for e in table:
        runs = f"{e['runs']} ({e['diverged']} diverged)" if e["diverged"] else str(e["runs"])
        cells = [str(e[n]) for n in names] + [runs]
        cells += [f"{e[m][0]:.3g} ± {e[m][1]:.2g}" if m in e else "–" for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return ("Mean ± standard deviation over the seeds whose run did not diverge.\n\n" + "\n".join(lines) + "\n")


def _heatmap(table, names, path):
    from ..runs import plots  # matplotlib loads only when a sweep draws
    metric = "test_accuracy" if "test_accuracy" in table[0] else "val_accuracy" if "val_accuracy" in table[0] else "final_loss"
    rows_of = names[0] if names else None
    cols_of = names[1] if len(names) > 1 else None
    row_vals = list(dict.fromkeys(e[rows_of] for e in table)) if rows_of else [""]
    col_vals = list(dict.fromkeys(e[cols_of] for e in table)) if cols_of else [""]
    cells = [[[] for _ in col_vals] for _ in row_vals]
    counts = [[[0, 0] for _ in col_vals] for _ in row_vals]  # diverged, runs
    for e in table:
        i = row_vals.index(e[rows_of]) if rows_of else 0
        j = col_vals.index(e[cols_of]) if cols_of else 0
        counts[i][j][0] += e["diverged"]
        counts[i][j][1] += e["runs"]
        if metric in e:
            cells[i][j].append(e[metric][0])
    grid_ = [[statistics.fmean(c) if c else math.nan for c in row] for row in cells]
    notes = [[f"{d}/{n} diverged" if d else "" for d, n in row] for row in counts]
    rest = f" (mean over {', '.join(names[2:])} and seeds)" if len(names) > 2 else " (mean over seeds)"
    if any(any(row) for row in notes):
        rest += "\ncells marked n/m diverged: the mean leaves those runs out"
    plots.heatmap(grid_, [f"{rows_of}={v}" for v in row_vals], [f"{cols_of}={v}" if cols_of else "" for v in col_vals],
                  path, title=f"{metric}{rest}", cbar_label=metric, log=metric == "final_loss", notes=notes)
