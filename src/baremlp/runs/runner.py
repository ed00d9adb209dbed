"""One training run from Settings, as the CLI does it and as a notebook can call it:
data -> network -> train -> summary, with everything written to a run folder when one is given.

    from baremlp.runs import Settings, run
    net, summary = run(Settings(dataset="linear"), out="runs/linear")

The run folder's files are described in baremlp.runs.folder.
"""
import os
import time
from dataclasses import dataclass, field

import torch

from .. import analysis, backprop, data as datamod
from ..data.scaling import keep_raw_targets
from ..engines import distributed
from ..errors import UsageError, check_fit
from ..model import MLP, resolve_device
from ..bookkeeping import Diverged, TrainState, unscaled
from ..train import train
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


def train_kwargs(s: Settings, data):
    """train()'s keyword arguments as the settings say, with the data's validation split: the one place
    where Settings become a training, for a run here and for the live page's (view.loop) alike."""
    return dict(lr=s.lr, epochs=s.epochs, batch_size=s.batch_size, reg=s.reg, reg_epochs=s.reg_epochs, seed=s.seed,
                momentum=s.momentum, schedule=s.schedule, patience=s.patience, check_steps=s.check_steps,
                val=(data.x_val, data.y_val) if data.x_val is not None else None)


@dataclass
class Run:
    """A run in progress: what its steps share, from its settings to the records of its epochs."""
    s: Settings
    folder: RunFolder = None  # None: nothing is written
    group: object = None      # engines.distributed.Group when several processes train, else None
    log: object = print       # how its lines are said (a no-op on ranks > 0 and when quiet)
    data: object = None
    loss: str = None
    net: MLP = None
    state: TrainState = field(default_factory=TrainState)  # where training stands (a resumed run's, read back)
    history: list = field(default_factory=list)            # the records of its epochs, those before a resume first
    seconds: float = 0.0      # trained so far, across resumes
    board: Board = None       # TensorBoard's event logs, when asked for
    done: bool = False        # resumed a run that had finished: nothing to train

    @property
    def writes(self):
        """Whether this process keeps the folder and reports: rank 0 of several, or the only one."""
        return not (self.group and self.group.rank)


def run(s: Settings, out=None, *, resume=False, overwrite=False, progress=True, log=print, plots=True,
        tensorboard=False):
    """Trains as the settings say and returns (net, summary).  With `out`, writes the run folder
    (a folder that already holds a run is refused unless overwrite=True, which clears it first, or
    unless that run diverged); with resume=True, continues the run in `out` from its last checkpoint,
    to more epochs than before if s.epochs says so.  Whatever cannot work is refused before any file
    is written (RunFolder.opening holds the rules).

    Started by torchrun with several processes, every process trains (engines.distributed) and rank 0
    alone reads and writes the run folder and prints; the others return (net, None)."""
    group = distributed.join(s.device, s.batch_size, s.check_steps)
    try:
        if group and group.rank:  # rank 0 reads the checkpoint and shares where training stands
            out, log, progress, tensorboard, resume = None, lambda *a: None, False, False, False
        r = begin(s, out, group, log, resume=resume, overwrite=overwrite, tensorboard=tensorboard)
        if r.done:
            return r.net, r.folder.summary() if r.folder else None
        train_run(r, progress)
        return r.net, finish(r, plots) if r.writes else None
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


def begin(s, out, group, log, *, resume=False, overwrite=False, tensorboard=False):
    """The Run: its data and network, its folder started, or read back to resume (r.done where that
    run is finished already).  The folder's rules are checked once, before the data loads."""
    folder = RunFolder(out) if out else None
    if resume and not folder:
        raise UsageError("resume=True continues a run folder: give its folder too (out, --resume DIR)")
    opening = folder.opening(s, resume, overwrite) if folder else "new"
    r = Run(s, folder, group, log, board=Board(out) if tensorboard else None)
    r.data, r.loss, r.net = prepare(s, group.device if group else None)
    if folder:
        open_folder(r, opening)
    if group:  # rank 0's state on every rank (its parameters follow at the first epoch)
        r.done, r.state.epoch, r.state.best, raw = distributed.share(
            (r.done, r.state.epoch, cpu(r.state.best), not r.data.scaling.scales_targets))
        if raw and r.data.scaling.scales_targets:  # rank 0 resumed a run begun on raw targets: so do all ranks
            keep_raw_targets(r.data)
    return r


def open_folder(r: Run, opening):
    """Starts the run's folder, or reads it back into r to resume, as RunFolder.opening decided."""
    folder, log = r.folder, r.log
    if opening in ("new", "restart"):
        if opening == "restart":
            log(f"{folder.path} has no checkpoint yet: starting its run from the beginning")
        elif folder.diverged():
            log(f"{folder.path} holds a run that diverged: replacing it")
        folder.start(r.s)
        return
    r.state, r.history, r.seconds = folder.restore(r.net, r.data)
    if opening == "finished":
        log(f"{folder.path} is finished already (summary.json exists): nothing to resume")
        r.done = True
        return
    if opening == "extend":
        log(f"extending {folder.path} from {settings_of(folder.path).epochs} to {r.s.epochs} epochs")
        folder.extend(r.s)
    if r.s.patience and r.state.best is None:
        log(f"note: {folder.checkpoint} holds no early-stopping state (an older checkpoint): patience counts from here")
    log(f"resuming {folder.path} after epoch {r.state.epoch} of {r.s.epochs}")


def train_run(r: Run, progress=True):
    """Trains the run's network from where it stands; its records join r.history.  A divergence is
    written to the folder (summary.json says so) and raised."""
    s, data = r.s, r.data
    r.log(describe(s, r.net, data, r.loss) + (f", on {r.group.size} processes" if r.group else ""))
    if big := unscaled(data.x, data.y):
        r.log(f"note: unscaled {big}: SGD steps on them are huge (dead ReLUs, divergence); "
              "standardize=True (--standardize) scales them to mean 0, std 1")
    t0 = time.perf_counter() - r.seconds  # train_seconds counts the whole run, across resumes
    try:
        r.history += train(r.net, data.x, data.y, loss=r.loss, state=r.state, progress=progress,
                           engine=r.group.engine(s.engine, s.check_steps) if r.group else s.engine,
                           callback=keeper(r, t0), **train_kwargs(s, data))
    except Diverged as e:
        if r.folder:
            r.folder.write_diverged(e, time.perf_counter() - t0)
        raise
    finally:
        r.seconds = time.perf_counter() - t0
        if r.board:
            r.board.close()


def keeper(r: Run, t0):
    """train()'s callback for a run: after every epoch, its record (with M W where R is known) goes to
    the run folder and the board, and the checkpoint is rewritten."""
    track = tracks_map(r.s)

    def after_epoch(record, state):
        stored(record)  # J as "objective" only, in the folder, the board and the history the plots draw
        if track:
            record["effective_map"] = analysis.effective_map(r.net).tolist()
        if r.group and r.group.device.type == "cpu":  # gloo's all_reduce returns when done; a GPU's would need a sync
            record["allreduce_time"], r.group.allreduce_seconds = r.group.allreduce_seconds, 0.0
        if r.folder:
            r.folder.append(record)
            r.folder.save(r.net, r.s, r.data, state, time.perf_counter() - t0)
        if r.board:
            r.board.add(record)
        return False
    return after_epoch


def finish(r: Run, plots=True):
    """The end of a run: its summary, printed, and the run folder's final checkpoint, plots and
    summary.json (written last: its presence means finished)."""
    summary, lines = summarize(r.s, r.net, r.data, r.history, r.loss, r.seconds)
    if r.group:
        summary["processes"] = r.group.size  # not a setting, but the last bits of the result depend on it
    for line in lines:
        r.log(line)
    if r.folder:
        r.folder.save(r.net, r.s, r.data, r.state, summary["train_seconds"])  # the final weights (the best, after early stopping)
        if plots:
            from .plots import write_run_plots  # matplotlib loads only when there is a folder to draw into
            written = write_run_plots(r.folder.path, r.net, r.data, r.history, summary)
            r.log(f"plots: {', '.join(os.path.basename(p) for p in written)}")
        r.folder.write_summary(summary)
        r.log(f"run folder: {r.folder.path}")
    return summary


def cpu(best):
    """Early stopping's best epoch with its weights on the CPU, to share between processes."""
    return best and (best[0], best[1], {k: t.cpu() for k, t in best[2].items()})


def gradcheck(s: Settings, samples=32):
    """backprop.gradcheck on the network and data the settings describe, at the network's initial
    weights: returns (net, loss name, gradcheck's result)."""
    data, loss, net = prepare(s)
    return net, loss, backprop.gradcheck(net, data.x, data.y, loss=loss, reg=s.reg, samples=samples)
