"""Experiments that answer a question with numbers, a plot and a short report.

noise-vs-reg: "does regularization improve training?"  The rotation data with Gaussian noise
of several sizes on the targets, trained at several λ (kept on for the whole run), judged on
clean held-out data (fresh samples, y = R x exactly) and on max|M W − R|.  λ pulls the weights
toward 0: that shrinks M W below R (by about (1 − λ) when every ReLU is on), but also damps
how much of the noise a small training set can imprint on the fit.  Which wins is measured, over
100 seeds a cell (one population: baremlp.studies.population), with 95 % intervals (studies.intervals).

Seed k draws the same initial weights, sample order and inputs at every λ, so λ's effect is read
off paired runs: the change of the mean clean error against λ = 0 on the same seeds.
"""
import math
import os

from ..errors import UsageError
from ..runs.files import write_atomic
from ..runs.settings import Settings
from .intervals import bootstrap
from .sweeps import sweep

NOISES = (0.0, 0.5, 1.0, 2.0)
REGS = (0.0, 0.001, 0.01, 0.03, 0.1)
METRICS = {"test_loss": "clean held-out MSE", "effective_map_error": "max |M W − R|"}


def noise_vs_reg(out, *, noises=NOISES, regs=REGS, seeds=100, n=100, epochs=100, lr=0.02, workers=1,
                 population=True, log=print):
    """Runs the grid (a sweep into out/) and writes out/noise_vs_reg.png and out/report.md."""
    noises, regs = sorted(set(noises)), sorted(set(regs))
    if regs[0] != 0 or len(regs) < 2:
        raise UsageError(f"regs {','.join(f'{r:g}' for r in regs)} invalid: expected 0 (the baseline) and at least one λ > 0")
    base = Settings(dataset="linear", n=n, epochs=epochs, lr=lr, reg_epochs=None)
    rows = sweep(base, {"noise": list(noises), "reg": list(regs)}, seeds, out, workers=workers,
                 population=population, log=log)
    runs = {}  # (metric, noise, λ) -> {seed: value}, diverged runs left out
    for r in rows:
        for metric in METRICS:
            if r.get(metric) is not None:
                runs.setdefault((metric, r["noise"], r["reg"]), {})[r["seed"]] = r[metric]
    cells = {key: _mean_interval(list(by_seed.values())) for key, by_seed in runs.items()}
    change = {(noise, reg): _paired_change(runs.get(("test_loss", noise, 0.0), {}), runs.get(("test_loss", noise, reg), {}))
              for noise in noises for reg in regs[1:]}
    _plot(cells, change, noises, regs, seeds, os.path.join(out, "noise_vs_reg.png"))
    report = _report(cells, change, noises, regs, base, seeds)
    write_atomic(os.path.join(out, "report.md"), report)
    log(report)
    return report


def _mean_interval(values):
    """(mean, low, high) with the 95 % bootstrap interval; NaNs where no run finished."""
    if not values:
        return math.nan, math.nan, math.nan
    return (sum(values) / len(values), *bootstrap(values))


def _paired_change(base, other):
    """Relative change of the mean from base to other over the seeds both have, with its 95 %
    bootstrap interval (seeds resampled as pairs): (change, low, high, pairs)."""
    seeds = sorted(base.keys() & other.keys())
    if not seeds:
        return math.nan, math.nan, math.nan, 0
    pairs = [(base[k], other[k]) for k in seeds]
    ratio = lambda t: t[..., 1].mean(-1) / t[..., 0].mean(-1) - 1  # (resamples, n, 2) -> (resamples,)
    change = sum(b for _, b in pairs) / sum(a for a, _ in pairs) - 1
    return (change, *bootstrap(pairs, ratio), len(seeds))


def _errorbars(ax, xs, triples, label):
    """Points at the means, bars from low to high: triples are (mean, low, high)."""
    mean, low, high = zip(*triples)
    ax.errorbar(xs, mean, yerr=[[m - lo for m, lo in zip(mean, low)], [hi - m for m, hi in zip(mean, high)]],
                marker="o", capsize=3, label=label)


def _plot(cells, change, noises, regs, seeds, path):
    from matplotlib.figure import Figure  # matplotlib loads only when the experiment draws
    from ..runs.plots import save_figure
    fig = Figure(layout="constrained", figsize=(15, 4.4))
    axes = fig.subplots(1, 3)
    xs = [r if r > 0 else min(r for r in regs if r > 0) / 3 for r in regs]  # λ = 0 drawn left of the rest
    for i, noise in enumerate(noises):
        shift = 1.06 ** (i - (len(noises) - 1) / 2)  # side by side, so that the bars do not hide each other
        label = f"noise σ = {noise:g}"
        for ax, metric in zip(axes, METRICS):
            _errorbars(ax, [x * shift for x in xs], [cells.get((metric, noise, r), (math.nan,) * 3) for r in regs], label)
        _errorbars(axes[2], [x * shift for x in xs[1:]], [[100 * v for v in change[noise, r][:3]] for r in regs[1:]], label)
    for ax, label in zip(axes, [*METRICS.values(), "clean MSE against λ = 0, same seeds (%)"]):
        ax.set_xscale("log")
        ax.set_xticks(xs if ax is not axes[2] else xs[1:], [f"{r:g}" for r in (regs if ax is not axes[2] else regs[1:])])
        ax.set_xlabel("λ (leftmost point: λ = 0)" if ax is not axes[2] else "λ")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    for ax in axes[:2]:
        ax.set_yscale("log")
    axes[2].axhline(0, color="black", linewidth=0.8)
    axes[2].set_yscale("symlog", linthresh=10)  # ±10 % linear, beyond that logarithmic: +260 % and −3 % both show
    axes[2].legend()
    fig.suptitle(f"Does regularization improve training? Rotation data, 2-3-2 network: mean over {seeds} seeds, "
                 "bars: 95 % bootstrap interval")
    return save_figure(fig, path)


def _table(title, noises, regs, cell):
    lines = [title, "", "| noise σ | " + " | ".join(f"λ = {r:g}" for r in regs) + " |", "|---|" + "---|" * len(regs)]
    for noise in noises:
        lines.append(f"| {noise:g} | " + " | ".join(cell(noise, r) for r in regs) + " |")
    return lines + [""]


def _answer(change, noises, regs):
    """One sentence that the intervals support: per noise level, does some λ > 0 lower the clean
    error with its whole interval below 0 (helps), does every λ > 0 raise it (hurts), or neither."""
    helps, hurts, neither = [], [], []
    for noise in noises:
        lower = [r for r in regs[1:] if change[noise, r][2] < 0]  # the interval's upper end below 0
        if lower:
            best = min(lower, key=lambda r: change[noise, r][0])
            c, lo, hi, _ = change[noise, best]
            helps.append(f"σ = {noise:g} ({len(lower)} of {len(regs) - 1} λ; best λ = {best:g}: {100 * c:+.1f} %, "
                         f"95 % interval {100 * lo:+.1f} to {100 * hi:+.1f} %)")
        elif all(change[noise, r][1] > 0 for r in regs[1:]):
            hurts.append(f"σ = {noise:g}")
        else:
            neither.append(f"σ = {noise:g}")
    parts = []
    if helps:
        parts.append(f"λ helps measurably at {', '.join(helps)}")
    if neither:
        parts.append(f"no λ helps measurably at {', '.join(neither)}")
    if hurts:
        parts.append(f"every λ > 0 tested hurts at {', '.join(hurts)}")
    return "**Answer** (clean held-out error, against λ = 0): " + "; ".join(parts) + "."


def _report(cells, change, noises, regs, base, seeds):
    lines = ["# Does regularization improve training?", "",
             f"Rotation data y = R x + σ·noise, {base.n} training samples, 2-3-2 network, per-sample SGD, "
             f"lr {base.lr}, {base.epochs} epochs, λ on throughout; {seeds} seeds a cell. Judged on "
             f"{base.n} fresh noise-free samples (clean MSE) and on max|M W − R| (A = M W, column convention). "
             "Brackets: 95 % percentile-bootstrap interval over seeds (2000 resamples); diverged runs left out.", ""]
    fmt = lambda c: f"{c[0]:.3g} [{c[1]:.3g}, {c[2]:.3g}]"
    for metric, label in METRICS.items():
        lines += _table(f"## {label}: mean [95 % interval]", noises, regs,
                        lambda noise, r: fmt(cells.get((metric, noise, r), (math.nan,) * 3)))
    lines += _table("## Clean MSE against λ = 0 on the same seeds: change of the mean [95 % interval]", noises, regs[1:],
                    lambda noise, r: "{:+.1f} % [{:+.1f}, {:+.1f}]".format(*(100 * v for v in change[noise, r][:3])))
    largest = regs[-1]
    lines += [_answer(change, noises, regs), "",
              f"With the least noise (σ = {noises[0]:g}) the largest λ = {largest:g} leaves max|M W − R| at "
              f"{cells.get(('effective_map_error', noises[0], largest), (math.nan,))[0]:.2g} (theory for a balanced, "
              f"all-active fit: about λ = {largest:g}), so λ trades fidelity to R for robustness to noise."]
    return "\n".join(lines) + "\n"
