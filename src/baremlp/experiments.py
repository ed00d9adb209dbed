"""Experiments that answer a question with numbers, a plot and a short report.

noise-vs-reg: "does regularization improve training?"  The rotation data with Gaussian noise
of several sizes on the targets, trained at several λ (kept on for the whole run), judged on
clean held-out data (fresh samples, y = R x exactly) and on max|M W − R|.  λ pulls the weights
toward 0: that shrinks M W below R (by about (1 − λ) when every ReLU is on), but also damps
how much of the noise a small training set can imprint on the fit.  Which wins is measured.
"""
import math
import os
import statistics

from .errors import UsageError
from .files import write_atomic
from .sweeps import sweep
from .settings import Settings

NOISES = (0.0, 0.5, 1.0, 2.0)
REGS = (0.0, 0.001, 0.01, 0.03, 0.1)


def noise_vs_reg(out, *, noises=NOISES, regs=REGS, seeds=3, n=100, epochs=100, lr=0.02, workers=1, log=print):
    """Runs the grid (a sweep into out/) and writes out/noise_vs_reg.png and out/report.md."""
    noises, regs = sorted(set(noises)), sorted(set(regs))
    if regs[0] != 0 or len(regs) < 2:
        raise UsageError(f"regs {','.join(f'{r:g}' for r in regs)} invalid: expected 0 (the baseline) and at least one λ > 0")
    base = Settings(dataset="linear", n=n, epochs=epochs, lr=lr, reg_epochs=None)
    rows = sweep(base, {"noise": list(noises), "reg": list(regs)}, seeds, out, workers=workers, log=log)
    mean = {}
    for metric in ("test_loss", "effective_map_error"):
        for noise in noises:
            for reg in regs:
                vals = [r[metric] for r in rows if r["noise"] == noise and r["reg"] == reg and r.get(metric) is not None]
                mean[metric, noise, reg] = statistics.fmean(vals) if vals else math.nan
    _plot(mean, noises, regs, os.path.join(out, "noise_vs_reg.png"))
    report = _report(mean, noises, regs, base, seeds)
    write_atomic(os.path.join(out, "report.md"), report)
    log(report)
    return report


def _plot(mean, noises, regs, path):
    from matplotlib.figure import Figure  # matplotlib loads only when the experiment draws
    from .plots import save_figure
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    xs = [r if r > 0 else min(r for r in regs if r > 0) / 3 for r in regs]  # λ = 0 drawn left of the rest
    for noise in noises:
        for ax, metric in zip(axes, ("test_loss", "effective_map_error")):
            ax.plot(xs, [mean[metric, noise, r] for r in regs], marker="o", label=f"noise σ = {noise:g}")
    for ax, label in zip(axes, ("clean held-out MSE", "max |M W − R|")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs, [f"{r:g}" for r in regs])
        ax.set_xlabel("λ (leftmost point: λ = 0)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("Does regularization improve training? Rotation data, 2-3-2 network, mean over seeds")
    return save_figure(fig, path)


def _report(mean, noises, regs, base, seeds):
    lines = ["# Does regularization improve training?", "",
             f"Rotation data y = R x + σ·noise, {base.n} training samples, 2-3-2 network, per-sample SGD, "
             f"lr {base.lr}, {base.epochs} epochs, λ on throughout; mean over {seeds} seeds. Judged on "
             f"{base.n} fresh noise-free samples (clean MSE) and on max|M W − R| (A = M W, column convention).", "",
             "| noise σ | " + " | ".join(f"λ = {r:g}" for r in regs) + " |", "|---|" + "---|" * len(regs)]
    for noise in noises:
        lines.append(f"| {noise:g} | " + " | ".join(
            f"{mean['test_loss', noise, r]:.3g} / {mean['effective_map_error', noise, r]:.2g}" for r in regs) + " |")
    lines += ["", "Cells: clean held-out MSE / max|M W − R|.", "", "## What the numbers show", ""]
    for noise in noises:
        base_loss = mean["test_loss", noise, 0.0]
        best = min(regs, key=lambda r: mean["test_loss", noise, r] if not math.isnan(mean["test_loss", noise, r]) else math.inf)
        best_loss = mean["test_loss", noise, best]
        if best == regs[0] or not best_loss < base_loss:
            lines.append(f"- σ = {noise:g}: no λ > 0 beats λ = {regs[0]:g} on clean data "
                         f"(clean MSE {base_loss:.3g}); regularization only shrinks the map here.")
        else:
            lines.append(f"- σ = {noise:g}: λ = {best:g} gives the lowest clean MSE, {best_loss:.3g} against "
                         f"{base_loss:.3g} at λ = {regs[0]:g} ({100 * (best_loss / base_loss - 1):+.0f} %).")
    largest = regs[-1]
    lines += ["", f"With the least noise (σ = {noises[0]:g}) the largest λ = {largest:g} leaves max|M W − R| at "
              f"{mean['effective_map_error', noises[0], largest]:.2g} (theory for a balanced, all-active fit: about "
              f"λ = {largest:g}), so λ trades fidelity to R for robustness to noise."]
    return "\n".join(lines) + "\n"
