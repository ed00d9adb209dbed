"""Experiments that answer a question with numbers, a plot and a short report.

noise-vs-reg: "does regularization improve training?"  The rotation data with Gaussian noise
of several sizes on the targets, trained at several λ (kept on for the whole run), judged on
clean held-out data (fresh samples, y = R x exactly) and on max|M W − R|.  λ pulls the weights
toward 0: that shrinks M W below R (by about (1 − λ) when every ReLU is on), but also damps
how much of the noise a small training set can imprint on the fit.  Which wins is measured, over
100 seeds a cell (one population: baremlp.studies.population), with 95 % intervals
(baremlp.studies.intervals) where a cell has at least MIN_SEEDS runs that finished: with fewer, or
where every run diverged, the report gives the mean and the count, and no conclusion.

Seed k draws the same initial weights, sample order and inputs at every λ, so λ's effect is read
off paired runs: the change of the mean clean error against λ = 0 on the same seeds.
"""
import math
import os

from ..errors import UsageError
from ..runs.files import write_atomic
from ..runs.settings import Settings
from .intervals import MIN_SEEDS, bootstrap
from .sweeps import repeated, sweep

NOISES = (0.0, 0.5, 1.0, 2.0)
REGS = (0.0, 0.001, 0.01, 0.03, 0.1)
METRICS = {"test_loss": "clean held-out MSE", "effective_map_error": "max |M W − R|"}


def noise_vs_reg(out, *, noises=NOISES, regs=REGS, seeds=100, n=100, epochs=100, lr=0.02, workers=1,
                 population=True, log=print):
    """Runs the grid (a sweep into out/) and writes out/noise_vs_reg.png and out/report.md.  A value
    given twice in noises or regs is refused (one line naming it)."""
    for name, values in (("noises", noises), ("regs", regs)):
        if (twice := repeated(list(values))) is not None:
            raise UsageError(f"{name} lists {twice:g} twice: give each value once")
    noises, regs = sorted(noises), sorted(regs)
    if regs[0] != 0 or len(regs) < 2:
        raise UsageError(f"regs {','.join(f'{r:g}' for r in regs)} invalid: expected 0 (the baseline) and at least one λ > 0")
    base = Settings(dataset="linear", n=n, epochs=epochs, lr=lr, reg_epochs=None)
    rows = sweep(base, {"noise": list(noises), "reg": list(regs)}, seeds, out, workers=workers,
                 population=population, log=log)
    runs, diverged = {}, {}  # (metric, noise, λ) -> {seed: value}, diverged runs left out; (noise, λ) -> how many diverged
    for r in rows:
        diverged[r["noise"], r["reg"]] = diverged.get((r["noise"], r["reg"]), 0) + (r.get("diverged_at_step") is not None)
        for metric in METRICS:
            if r.get(metric) is not None:
                runs.setdefault((metric, r["noise"], r["reg"]), {})[r["seed"]] = r[metric]
    cells = {(metric, noise, reg): _mean_interval(list(runs.get((metric, noise, reg), {}).values()))
             for metric in METRICS for noise in noises for reg in regs}
    change = {(noise, reg): _paired_change(runs.get(("test_loss", noise, 0.0), {}), runs.get(("test_loss", noise, reg), {}))
              for noise in noises for reg in regs[1:]}
    _plot(cells, change, noises, regs, seeds, os.path.join(out, "noise_vs_reg.png"))
    report = _report(cells, change, diverged, noises, regs, base, seeds)
    write_atomic(os.path.join(out, "report.md"), report)
    log(report)
    return report


def _mean_interval(values):
    """(mean, low, high, count) with the 95 % bootstrap interval; the interval NaN below MIN_SEEDS
    values (it would claim far more than it covers), the mean NaN too where no run finished."""
    if len(values) < MIN_SEEDS:
        return (sum(values) / len(values) if values else math.nan), math.nan, math.nan, len(values)
    return (sum(values) / len(values), *bootstrap(values), len(values))


def _paired_change(base, other):
    """Relative change of the mean from base to other over the seeds both have, with its 95 %
    bootstrap interval (seeds resampled as pairs; NaN below MIN_SEEDS pairs): (change, low, high, pairs)."""
    seeds = sorted(base.keys() & other.keys())
    if not seeds:
        return math.nan, math.nan, math.nan, 0
    pairs = [(base[k], other[k]) for k in seeds]
    ratio = lambda t: t[..., 1].mean(-1) / t[..., 0].mean(-1) - 1  # (resamples, n, 2) -> (resamples,)
    change = sum(b for _, b in pairs) / sum(a for a, _ in pairs) - 1
    interval = bootstrap(pairs, ratio) if len(seeds) >= MIN_SEEDS else (math.nan, math.nan)
    return (change, *interval, len(seeds))


def _errorbars(ax, xs, triples, label):
    """Points at the means, bars from low to high: triples are (mean, low, high); a point without
    an interval (NaN ends) gets no bar, a NaN mean no point."""
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
            _errorbars(ax, [x * shift for x in xs], [cells[metric, noise, r][:3] for r in regs], label)
        _errorbars(axes[2], [x * shift for x in xs[1:]], [[100 * v for v in change[noise, r][:3]] for r in regs[1:]], label)
    for ax, label in zip(axes, [*METRICS.values(), "clean MSE against λ = 0, same seeds (%)"]):
        ax.set_xscale("log")
        ax.set_xticks(xs if ax is not axes[2] else xs[1:], [f"{r:g}" for r in (regs if ax is not axes[2] else regs[1:])])
        ax.set_xlabel("λ (leftmost point: λ = 0)" if ax is not axes[2] else "λ")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    drawn = [[cells[metric, noise, r][0] for noise in noises for r in regs] for metric in METRICS]
    drawn.append([change[noise, r][0] for noise in noises for r in regs[1:]])
    for ax, means in zip(axes, drawn):
        if not any(math.isfinite(m) for m in means):  # as sweep's heat map marks its cells: nothing to draw, and why
            ax.text(0.5, 0.5, "every run diverged", ha="center", va="center", transform=ax.transAxes)
        elif ax is not axes[2]:
            ax.set_yscale("log")
    axes[2].axhline(0, color="black", linewidth=0.8)
    axes[2].set_yscale("symlog", linthresh=10)  # ±10 % linear, beyond that logarithmic: +260 % and −3 % both show
    axes[2].legend()
    fig.suptitle(f"Does regularization improve training? Rotation data, 2-3-2 network: mean over {seeds} seeds "
                 f"(diverged runs left out), bars: 95 % bootstrap interval where ≥ {MIN_SEEDS} seeds finished")
    return save_figure(fig, path)


def _table(title, noises, regs, cell):
    lines = [title, "", "| noise σ | " + " | ".join(f"λ = {r:g}" for r in regs) + " |", "|---|" + "---|" * len(regs)]
    for noise in noises:
        lines.append(f"| {noise:g} | " + " | ".join(cell(noise, r) for r in regs) + " |")
    return lines + [""]


def _answer(change, noises, regs):
    """One sentence that the intervals support: per noise level, does some λ > 0 lower the clean
    error with its whole interval below 0 (helps), does every λ > 0 raise it (hurts), or neither; no
    conclusion where a λ that could decide it has fewer than MIN_SEEDS seeds finished beside λ = 0's."""
    helps, hurts, neither, undecided = [], [], [], {}
    for noise in noises:
        known = [r for r in regs[1:] if change[noise, r][3] >= MIN_SEEDS]
        lower = [r for r in known if change[noise, r][2] < 0]  # the interval's upper end below 0
        if lower:
            best = min(lower, key=lambda r: change[noise, r][0])
            c, lo, hi, _ = change[noise, best]
            helps.append(f"σ = {noise:g} ({len(lower)} of {len(regs) - 1} λ; best λ = {best:g}: {100 * c:+.1f} %, "
                         f"95 % interval {100 * lo:+.1f} to {100 * hi:+.1f} %)")
        elif len(known) < len(regs) - 1:
            unknown = ", ".join(f"{r:g}" for r in regs[1:] if r not in known)
            undecided.setdefault(unknown, []).append(f"σ = {noise:g}")
        elif all(change[noise, r][1] > 0 for r in regs[1:]):
            hurts.append(f"σ = {noise:g}")
        else:
            neither.append(f"σ = {noise:g}")
    parts = []
    if helps:
        parts.append(f"λ helps measurably at {', '.join(helps)}")
    parts += [f"no conclusion at {', '.join(at)}: fewer than {MIN_SEEDS} seeds finished at λ = 0 and at λ = {unknown}"
              for unknown, at in undecided.items()]
    if neither:
        parts.append(f"no λ helps measurably at {', '.join(neither)}")
    if hurts:
        parts.append(f"every λ > 0 tested hurts at {', '.join(hurts)}")
    return "**Answer** (clean held-out error, against λ = 0): " + "; ".join(parts) + "."


def _cell(c, diverged, seeds):
    """A table cell: mean [95 % interval], or the mean and its count where there is no interval;
    how many runs diverged, where some did."""
    mean, low, high, count = c
    note = f"{diverged} of {seeds} diverged" if diverged else ""
    if not count:
        return f"– ({note})" if note else "–"
    if math.isnan(low):
        return f"{mean:.3g} ({count} seed{'s' if count > 1 else ''}: an interval needs {MIN_SEEDS}{'; ' + note if note else ''})"
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]" + (f" ({note})" if note else "")


def _change_cell(c):
    change, low, high, pairs = c
    if not pairs:
        return "–"
    if math.isnan(low):
        return f"{100 * change:+.1f} % ({pairs} seed{'s' if pairs > 1 else ''}: an interval needs {MIN_SEEDS})"
    return f"{100 * change:+.1f} % [{100 * low:+.1f}, {100 * high:+.1f}]"


def _report(cells, change, diverged, noises, regs, base, seeds):
    total, lost = seeds * len(noises) * len(regs), sum(diverged.values())
    lines = ["# Does regularization improve training?", "",
             f"Rotation data y = R x + σ·noise, {base.n} training samples, 2-3-2 network, per-sample SGD, "
             f"lr {base.lr}, {base.epochs} epochs, λ on throughout; {seeds} seeds a cell. Judged on "
             f"{base.n} fresh noise-free samples (clean MSE) and on max|M W − R| (A = M W, column convention). "
             "Brackets: 95 % percentile-bootstrap interval over seeds (2000 resamples), where at least "
             f"{MIN_SEEDS} seeds finished (with fewer it would cover far less than it claims: "
             "baremlp.studies.intervals); diverged runs left out.", ""]
    if lost:
        lines += [f"{lost} of {total} runs diverged, left out of the means" + (
            ": every run diverged, so nothing can be concluded; try a smaller lr." if lost == total else "."), ""]
    for metric, label in METRICS.items():
        lines += _table(f"## {label}: mean [95 % interval]", noises, regs,
                        lambda noise, r: _cell(cells[metric, noise, r], diverged.get((noise, r), 0), seeds))
    lines += _table("## Clean MSE against λ = 0 on the same seeds: change of the mean [95 % interval]", noises, regs[1:],
                    lambda noise, r: _change_cell(change[noise, r]))
    lines += [_answer(change, noises, regs), ""]
    largest = regs[-1]
    mean, low, _, _ = cells["effective_map_error", noises[0], largest]
    if not math.isnan(low):
        lines += [f"With the least noise (σ = {noises[0]:g}) the largest λ = {largest:g} leaves max|M W − R| at "
                  f"{mean:.2g} (theory for a balanced, all-active fit: about λ = {largest:g}), so λ trades fidelity "
                  "to R for robustness to noise."]
    return "\n".join(lines) + "\n"
