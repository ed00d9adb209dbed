"""Pictures of a run: loss curves, the effective map over training, what the network computes
on 2-D inputs, a confusion matrix and a generic annotated heat map (for sweeps).

Every function saves one PNG and returns its path.  Figures are rendered into memory and
written with files.write_atomic, so a reader never sees half an image, and closed at
once, so a long sweep does not pile up open figures.
"""
import io
import os

import matplotlib
import numpy as np
import torch
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.figure import Figure  # not pyplot: no global backend switch, so a notebook's plots still show
from matplotlib.patches import Patch

from ..analysis import CONVENTION
from ..datasets import R
from ..errors import UsageError
from .files import write_atomic


def save_figure(fig, path):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")  # tight: long labels are not cut off
    write_atomic(path, buf.getvalue())
    return os.fspath(path)


def _plot_series(ax, records, series, ylabel, log_if_positive):
    """series: (label, value of a record or None) pairs, one line each."""
    values = []
    for label, value in series:
        pts = np.array([(r["epoch"], value(r)) for r in records if value(r) is not None], float).reshape(-1, 2)
        pts = pts[np.isfinite(pts[:, 1])]  # a diverged epoch leaves a gap instead of breaking the log scale
        if len(pts):
            ax.plot(*pts.T, marker="." if len(pts) < 30 else None, label=label)
            values.append(pts[:, 1])
    if log_if_positive and values and all((v > 0).all() for v in values):
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend()


def objective(record):
    """J of an epoch's record: "objective" since J and L have their own names, "loss" in older run folders."""
    return record.get("objective", record.get("loss"))


def loss_curves(records, path):
    """The objective J = L + λ Σ‖W‖² per epoch as trained (mean over the epoch's steps) and the
    validation loss L (no λ term) after each epoch; a second panel with accuracy when recorded."""
    if not records:
        raise UsageError("no epoch records to plot: the run has not finished an epoch yet")
    acc = any(r.get(k) is not None for r in records for k in ("accuracy", "val_accuracy"))
    fig = Figure(layout="constrained", figsize=(11 if acc else 6, 4))
    axes = fig.subplots(1, 2 if acc else 1, squeeze=False)
    _plot_series(axes[0, 0], records, [("J = L + λ Σ‖W‖², training (mean over the epoch's steps)", objective),
                                       ("L, validation (after the epoch)", lambda r: r.get("val_loss"))],
                 "J or L", log_if_positive=True)
    axes[0, 0].set_title("objective J and loss L per epoch")
    if acc:
        _plot_series(axes[0, 1], records, [(k.replace("_", " "), lambda r, k=k: r.get(k))
                                           for k in ("accuracy", "val_accuracy")], "accuracy", log_if_positive=False)
        axes[0, 1].set_title("accuracy per epoch")
    return save_figure(fig, path)


def map_entries(records, path, target=R):
    """The entries of A = M W over the epochs, each beside its target entry (dashed, same colour),
    and max|A − target| on a log scale."""
    recs = [r for r in records if r.get("effective_map") is not None]
    if not recs:
        raise UsageError("no record carries an effective_map")
    epochs = np.array([r["epoch"] for r in recs])
    A = np.array([r["effective_map"] for r in recs], dtype=float)  # (epochs, out, in)
    T = np.asarray(target, dtype=float)
    if A.shape[1:] != T.shape:
        raise UsageError(f"effective map shape {A.shape[1:]} does not match the target's {T.shape}")
    fig = Figure(layout="constrained", figsize=(12, 4.5))
    (ax, ax_err) = fig.subplots(1, 2)
    for n, (i, j) in enumerate(np.ndindex(*T.shape)):
        colour = f"C{n % 10}"
        ax.plot(epochs, A[:, i, j], color=colour, label=f"$A_{{{i + 1}{j + 1}}}$ (target {T[i, j]:g})")
        ax.axhline(T[i, j], color=colour, linestyle="--", linewidth=1, alpha=0.8)
    ax.set(xlabel="epoch", ylabel="entry value", title="entries of the effective map (dashed: target)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    err = np.abs(A - T).max(axis=(1, 2))
    ax_err.plot(epochs, err, color="k")
    if (err > 0).all():
        ax_err.set_yscale("log")
    ax_err.set(xlabel="epoch", ylabel="max |A − R|", title="distance to the target")
    ax_err.grid(alpha=0.3, which="both")
    fig.suptitle(f"effective map {CONVENTION}")
    return save_figure(fig, path)


def _grid(x, steps):
    """A steps × steps grid over the data's bounding box widened by 10 % on every side."""
    lo, hi = x.min(0), x.max(0)
    pad = 0.1 * np.maximum(hi - lo, 1e-6)
    g1, g2 = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], steps),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], steps))
    return g1, g2, np.stack([g1.ravel(), g2.ravel()], axis=1)


def function_2d(net, x, y, path, *, classes=None, axis_labels=("$x_1$", "$x_2$"), targets=None, scaling=None):
    """For 2-D inputs: decision regions with the samples (classification, when classes are
    given) or one heat map per output with the samples coloured by their target (regression):
    targets names the outputs (default v_j and y_j), scaling (a baremlp.data.Scaling) brings outputs
    and targets trained on standardized values back to the data's units."""
    x_np = torch.as_tensor(x).detach().cpu().double().numpy()
    y_np = torch.as_tensor(y).detach().cpu().numpy()
    if x_np.ndim != 2 or x_np.shape[1] != 2:
        raise UsageError(f"function_2d needs 2-D inputs, got x of shape {tuple(x_np.shape)}")
    g1, g2, pts = _grid(x_np, 200)
    with torch.inference_mode():
        v = net(torch.as_tensor(pts).to(net.device, net.dtype)).double().cpu()
    if not classes and scaling is not None and scaling.scales_targets:
        v, y_np = scaling.outputs(v), scaling.outputs(torch.as_tensor(y).double().cpu()).numpy()
    v = v.numpy()
    # thousands of markers hide the background: an evenly spaced subset keeps the picture readable
    show = np.linspace(0, len(x_np) - 1, min(len(x_np), 1500)).astype(int)
    if classes:
        k = len(classes)
        cmap = ListedColormap(matplotlib.colormaps.get_cmap("tab10" if k <= 10 else "tab20")(np.arange(k) % 20))
        norm = BoundaryNorm(np.arange(k + 1) - 0.5, k)
        fig = Figure(layout="constrained", figsize=(7, 5.5))
        ax = fig.subplots()
        ax.contourf(g1, g2, v.argmax(1).reshape(g1.shape), levels=np.arange(k + 1) - 0.5, cmap=cmap,
                    norm=norm, alpha=0.35)
        ax.scatter(x_np[show, 0], x_np[show, 1], c=y_np[show], cmap=cmap, norm=norm, s=12,
                   edgecolors="k", linewidths=0.3)
        ax.legend(handles=[Patch(color=cmap(c), label=str(name)) for c, name in enumerate(classes)],
                  title="class", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
        ax.set(xlabel=axis_labels[0], ylabel=axis_labels[1],
               title="decision regions (argmax of the outputs) and samples")
        return save_figure(fig, path)
    outs = v.shape[1]
    y_np = y_np.reshape(len(x_np), -1)
    fig = Figure(layout="constrained", figsize=(5.5 * outs, 4.8))
    axes = fig.subplots(1, outs, squeeze=False)
    for j, ax in enumerate(axes[0]):
        values = np.concatenate([v[:, j], y_np[:, j]])
        vmin, vmax = values.min(), values.max()
        mesh = ax.pcolormesh(g1, g2, v[:, j].reshape(g1.shape), cmap="coolwarm", vmin=vmin, vmax=vmax,
                             shading="auto")
        # same colour scale: where the fit is good the dots melt into the background
        ax.scatter(x_np[show, 0], x_np[show, 1], c=y_np[show, j], cmap="coolwarm", vmin=vmin, vmax=vmax,
                   s=10, edgecolors="k", linewidths=0.3)
        out, want = (targets[j], targets[j]) if targets else (f"$v_{{{j + 1}}}$", f"$y_{{{j + 1}}}$")
        fig.colorbar(mesh, ax=ax, label=out)
        ax.set(xlabel=axis_labels[0], ylabel=axis_labels[1],
               title=f"learned {out}(x); dots: {want} of the samples" if targets else
               f"learned output {out}(x); dots: target {want}")
    return save_figure(fig, path)


def _annotated_image(ax, values, row_labels, col_labels, fmt, cmap, norm=None, notes=None):
    """imshow with every cell labelled (and a second line from notes[i][j], where not empty); the
    text turns white on dark cells so it stays legible."""
    cmap = matplotlib.colormaps.get_cmap(cmap).with_extremes(bad="0.85")  # missing cells (NaN) in light grey
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    if values.size <= 400:  # beyond that the digits would overlap
        for (i, j), val in np.ndenumerate(values):
            r, g, b, _ = im.cmap(im.norm(val)) if np.isfinite(val) else (1, 1, 1, 1)
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # perceived brightness of the cell
            note = f"\n{notes[i][j]}" if notes and notes[i][j] else ""
            ax.text(j, i, (fmt(val) if np.isfinite(val) else "–") + note, ha="center", va="center",
                    color="w" if dark else "k", fontsize="small")
    long = max((len(str(c)) for c in col_labels), default=0) > 4 or len(col_labels) > 8
    ax.set_xticks(range(len(col_labels)), [str(c) for c in col_labels],
                  rotation=45 if long else 0, ha="right" if long else "center")
    ax.set_yticks(range(len(row_labels)), [str(r) for r in row_labels])
    return im


def confusion(matrix, classes, path):
    """The confusion matrix as an image: counts in the cells, true class on rows, predicted on columns."""
    m = np.asarray(matrix, dtype=float)
    k = len(classes)
    if m.shape != (k, k):
        raise UsageError(f"confusion matrix of shape {m.shape} does not match {k} classes")
    size = min(4 + 0.5 * k, 16)
    fig = Figure(layout="constrained", figsize=(size + 1, size))
    ax = fig.subplots()
    im = _annotated_image(ax, m, classes, classes, lambda c: f"{c:.0f}", "Blues")
    fig.colorbar(im, ax=ax, label="samples")
    ax.set(xlabel="predicted class", ylabel="true class",
           title=f"confusion matrix ({m.trace() / max(m.sum(), 1):.1%} correct)")
    return save_figure(fig, path)


def heatmap(table, row_labels, col_labels, path, *, title, cbar_label, log=False, notes=None):
    """A heat map of table (rows × columns, NaN for missing cells) with every value written in its
    cell, above notes[i][j] where given (such as "2/3 diverged"); log=True colours on a log scale,
    for quantities such as losses that span decades."""
    t = np.asarray(table, dtype=float)
    if t.shape != (len(row_labels), len(col_labels)):
        raise UsageError(f"table of shape {t.shape} does not match {len(row_labels)} × {len(col_labels)} labels")
    positive = t[np.isfinite(t) & (t > 0)]
    norm = LogNorm(positive.min(), positive.max()) if log and positive.size and positive.min() < positive.max() else None
    fig = Figure(layout="constrained", figsize=(min(3 + 1.1 * len(col_labels), 18), min(2 + 0.6 * len(row_labels), 14)))
    ax = fig.subplots()
    im = _annotated_image(ax, t, row_labels, col_labels, lambda v: f"{v:.3g}", "viridis", norm, notes)
    fig.colorbar(im, ax=ax, label=cbar_label)
    ax.set_title(title)
    return save_figure(fig, path)


def write_run_plots(folder, net, data, records, summary):
    """Writes the plots that apply to a finished run into folder; returns their paths."""
    paths = [loss_curves(records, os.path.join(folder, "loss.png"))]
    if any(r.get("effective_map") is not None for r in records):
        paths.append(map_entries(records, os.path.join(folder, "effective_map.png")))
    if data.x.ndim == 2 and data.x.shape[1] == 2:
        names = data.inputs or ["$x_1$", "$x_2$"]
        if data.scaling.scales_inputs:  # the network sees standardised inputs, and so does the plot
            names = [f"{n} (standardised)" for n in names]
        paths.append(function_2d(net, data.x, data.y, os.path.join(folder, "function.png"), classes=data.classes,
                                 axis_labels=names, targets=data.targets, scaling=data.scaling))
    if summary.get("confusion_matrix"):
        classes = summary.get("classes") or data.classes
        paths.append(confusion(summary["confusion_matrix"], classes, os.path.join(folder, "confusion.png")))
    return paths
