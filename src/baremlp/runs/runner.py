"""One training run from Settings, as the CLI does it and as a notebook can call it:
data -> network -> train -> summary, with everything written to a run folder when one is given.

    from baremlp.runs import Settings, run
    net, summary = run(Settings(dataset="linear"), out="runs/linear")

The run folder's files are described in baremlp.runs.folder.
"""
import os
import time

import torch

from .. import analysis, backprop, data as datamod
from ..data.scaling import keep_raw_targets
from ..engines import distributed
from ..errors import UsageError, check_fit
from ..model import MLP, resolve_device
from ..train import Diverged, TrainState, train, unscaled
from .folder import Board, RunFolder, diverged_summary, settings_of, stored
from .report import summarize, tracks_map
from .settings import Settings


def build_net(s: Settings, data, device=None):
    """The network the settings describe, sized for the data: [features, *hidden, outputs]."""
    return MLP([data.x.shape[1], *s.hidden, data.outputs], seed=s.seed, init=s.init,
               init_scale=s.init_scale, device=device, dtype=getattr(torch, s.dtype))


def prepare(s: Settings, device=None):
    """(data, loss name, network) as the settings describe them, once what train() would refuse of
    them is refused: a run checks this before its folder is written, gradcheck before it differentiates."""
    data = datamod.load(s)
    loss = datamod.loss_for(s.loss, data.classes)
    check_fit(loss, data.y)  # the check train() makes
    return data, loss, build_net(s, data, device or resolve_device(s.device))


def describe(s: Settings, net, data, loss):
    reg = "" if not s.reg else f", λ {s.reg:g}" + (
        f" for the first {s.reg_epochs} epochs then 0" if s.reg_epochs is not None and s.reg_epochs < s.epochs else "")
    return (f"training {net} on {s.data or s.dataset} ({data.x.shape[0]} samples) with {loss}, "
            f"lr {s.lr:g}{reg}, batch {s.batch_size}, {s.epochs} epochs")


def run(s: Settings, out=None, *, resume=False, overwrite=False, progress=True, log=print, plots=True,
        tensorboard=False):
    """Trains as the settings say and returns (net, summary).  With `out`, writes the run folder
    (a folder that already holds a run is refused unless overwrite=True, which clears it first, or
    unless that run diverged); with resume=True, continues the run in `out` from its last checkpoint,
    to more epochs than before if s.epochs says so.  Whatever cannot work is refused before any file
    is written.

    Started by torchrun with several processes, every process trains (engines.distributed) and rank 0
    alone reads and writes the run folder and prints; the others return (net, None)."""
    group = distributed.join(s.device, s.batch_size, s.check_steps)
    try:
        if group and group.rank:
            out, log, progress, tensorboard = None, lambda *a: None, False, False
            resume = False  # rank 0 reads the checkpoint and shares where training stands
        return _run(s, out, group, resume, overwrite, progress, log, plots, tensorboard)
    finally:
        distributed.leave()


def run_or_read(s, out=None):
    """The summary of the run s in folder out, as a sweep or a population wants it: read back where out
    holds a finished run (or one that diverged), else trained quietly, resumed where it stopped.  A run
    that diverges is an outcome here, not an error: its summary says so, as run() wrote it."""
    folder = RunFolder(out) if out else None
    if folder and folder.finished():
        return folder.summary()
    t0 = time.perf_counter()
    try:
        return run(s, out, resume=bool(folder and folder.holds_run()), progress=False, log=lambda *a: None,
                   plots=False)[1]
    except Diverged as e:  # without a folder, its seconds count the data's loading too
        return folder.summary() if folder else diverged_summary(e, time.perf_counter() - t0)


def open_run(folder, s, net, data, resume, overwrite, log):
    """Starts the run folder, or reads it back to resume: returns (TrainState, the records of the
    epochs done, the seconds trained so far, whether the run is finished already)."""
    state, prior, seconds = TrainState(), [], 0.0
    if folder and not resume:
        if folder.diverged():
            log(f"{folder.path} holds a run that diverged: replacing it")
        folder.start(s, overwrite)
    elif resume and not os.path.exists(folder.checkpoint):
        log(f"{folder.path} has no checkpoint yet: starting its run from the beginning")
        folder.start(s, overwrite=True)
    elif resume:
        before = settings_of(folder.path)
        state, prior, seconds = folder.restore(net, data)
        if s.replace(epochs=before.epochs) != before:
            raise UsageError(f"resuming {folder.path} continues it with its own settings: only epochs may change")
        if s.epochs < state.epoch:
            raise UsageError(f"{folder.path} has trained {state.epoch} epochs already: epochs {s.epochs} cannot "
                             "shorten it")
        if s.epochs != before.epochs:
            folder.extend(s)
            log(f"extending {folder.path} from {before.epochs} to {s.epochs} epochs")
        elif folder.finished():
            log(f"{folder.path} is finished already (summary.json exists): nothing to resume")
            return state, prior, seconds, True
        if s.patience and state.best is None:
            log(f"note: {folder.checkpoint} holds no early-stopping state (an older checkpoint): "
                "patience counts from here")
        log(f"resuming {folder.path} after epoch {state.epoch} of {s.epochs}")
    return state, prior, seconds, False


def _run(s, out, group, resume, overwrite, progress, log, plots, tensorboard):
    folder = RunFolder(out) if out else None
    if folder and not resume:
        folder.check_new(overwrite)  # before the data loads: the mistake is told at once
    elif folder and folder.diverged():
        raise UsageError(f"{out} holds a run that diverged: nothing to resume; start it anew with other "
                         f"settings and resume=False (baremlp train --out {out} without --resume)")
    board = Board(out) if tensorboard else None
    data, loss, net = prepare(s, group.device if group else None)
    state, prior, seconds, finished = open_run(folder, s, net, data, resume, overwrite, log)
    if group:  # rank 0's state on every rank (its parameters follow at the first epoch)
        finished, state.epoch, state.best, raw = distributed.share(
            (finished, state.epoch, cpu(state.best), not data.scaling.scales_targets))
        if raw and data.scaling.scales_targets:  # rank 0 resumed a run begun on raw targets: so do all ranks
            keep_raw_targets(data)
    if finished:
        return net, folder.summary() if folder else None
    log(describe(s, net, data, loss) + (f", on {group.size} processes" if group else ""))
    if big := unscaled(data.x, data.y):
        log(f"note: unscaled {big}: SGD steps on them are huge (dead ReLUs, divergence); "
            "standardize=True (--standardize) scales them to mean 0, std 1")
    t0 = time.perf_counter() - seconds  # train_seconds counts the whole run, across resumes
    val = (data.x_val, data.y_val) if data.x_val is not None else None
    try:
        history = prior + train(
            net, data.x, data.y, loss=loss, lr=s.lr, epochs=s.epochs, batch_size=s.batch_size, reg=s.reg,
            reg_epochs=s.reg_epochs, seed=s.seed, momentum=s.momentum, schedule=s.schedule, val=val,
            patience=s.patience, check_steps=s.check_steps, state=state, progress=progress,
            engine=group.engine(s.engine, s.check_steps) if group else s.engine,
            callback=keeper(s, net, data, folder, board, group, t0))
    except Diverged as e:
        if folder:
            folder.write_diverged(e, time.perf_counter() - t0)
        raise
    finally:
        if board:
            board.close()
    if group and group.rank:
        return net, None
    return net, finish(s, net, data, history, state, loss, time.perf_counter() - t0, folder, group, plots, log)


def keeper(s, net, data, folder, board, group, t0):
    """train()'s callback for a run: after every epoch, its record (with M W where R is known) goes to
    the run folder and the board, and the checkpoint is rewritten."""
    track = tracks_map(s)

    def after_epoch(record, state):
        stored(record)  # J as "objective" only, in the folder, the board and the history the plots draw
        if track:
            record["effective_map"] = analysis.effective_map(net).tolist()
        if group and group.device.type == "cpu":  # gloo's all_reduce returns when done; a GPU's would need a sync
            record["allreduce_time"], group.allreduce_seconds = group.allreduce_seconds, 0.0
        if folder:
            folder.append(record)
            folder.save(net, s, data, state, time.perf_counter() - t0)
        if board:
            board.add(record)
        return False
    return after_epoch


def finish(s, net, data, history, state, loss, seconds, folder, group, plots, log):
    """The end of a run: its summary, printed, and the run folder's final checkpoint, plots and
    summary.json (written last: its presence means finished)."""
    summary, lines = summarize(s, net, data, history, loss, seconds)
    if group:
        summary["processes"] = group.size  # not a setting, but the last bits of the result depend on it
    for line in lines:
        log(line)
    if folder:
        folder.save(net, s, data, state, summary["train_seconds"])  # the final weights (the best, after early stopping)
        if plots:
            from .plots import write_run_plots  # matplotlib loads only when there is a folder to draw into
            written = write_run_plots(folder.path, net, data, history, summary)
            log(f"plots: {', '.join(os.path.basename(p) for p in written)}")
        folder.write_summary(summary)
        log(f"run folder: {folder.path}")
    return summary


def cpu(best):
    """Early stopping's best epoch with its weights on the CPU, to share between processes."""
    return best and (best[0], best[1], {k: t.cpu() for k, t in best[2].items()})


def gradcheck(s: Settings, samples=32):
    """backprop.gradcheck on the network and data the settings describe, at the network's initial
    weights: returns (net, loss name, gradcheck's result)."""
    data, loss, net = prepare(s)
    return net, loss, backprop.gradcheck(net, data.x, data.y, loss=loss, reg=s.reg, samples=samples)
