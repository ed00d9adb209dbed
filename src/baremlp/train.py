"""The training loop: forward, J.backward(), an in-place SGD update, gradients cleared.

    for each epoch:
        shuffle the samples (the order is a function of seed and epoch alone)
        for each batch (x, y):
            J = L(net(x), y) + λ Σ‖W_i‖²_F       # forward
            J.backward()                          # backward: dJ/dp for every parameter p
            p ← p − lr · dJ/dp, then p.grad = 0   # update (sgd)

batch_size=1 is the lab's per-sample SGD; larger batches run as whole-batch tensor ops.  Nothing
on the hot path waits for the device (no .item() per step): losses stay on the device and are read
once an epoch.  An engine runs one epoch: the eager one is `eager_epoch` below, the others live
in baremlp.engines (compiled, manual: the ops' own backwards, and with several processes the
data-parallel one).  Everything around the epoch (schedules, validation, early stopping,
divergence) is shared by all engines.
"""
import math
import time
import warnings
from dataclasses import dataclass

import torch

from . import ops
from .engines import compiled, distributed, manual
from .errors import UsageError, check_data, check_fit, check_hyper
from .evaluation import evaluate
from .ops import make_loss
from .sgd import SCHEDULES, Schedule, Step, batch_size_for, batch_sizes, batches, sgd_step
from .sgd import epoch_order, lr_at, reg_at  # noqa: F401  (0.1's notebooks import them from here)


class Diverged(RuntimeError):
    """The objective became NaN or infinite; `step` is the first update that produced it (1-based).
    The message names the likely cause (see likely_cause)."""

    def __init__(self, step, epoch, lr, cause=None):
        self.step, self.epoch = step, epoch
        super().__init__(f"training diverged: the objective became non-finite at step {step} (epoch {epoch}); "
                         f"{cause or f'try a smaller learning rate than {lr:g}'}")


UNSCALED = 10.0  # a column whose root mean square exceeds this is called unscaled: standardized data has 1
TINY_LR = 1e-8   # below this a smaller step cannot be the cure


def unscaled(x, y):
    """'inputs up to 480 and targets up to 2e+04' for those far from unit scale, or '' (class labels are not scaled)."""
    rms = lambda t: torch.linalg.vector_norm(t, dim=0).max() / math.sqrt(len(t))  # noqa: E731  (no copy of t)
    big = [f"{name} up to {t.abs().max().item():.3g}" for name, t in (("inputs", x), ("targets", y))
           if t.dtype.is_floating_point and not rms(t) <= UNSCALED]  # inf (overflow) counts
    return " and ".join(big)


ADVICE = {"cure": "standardize them (the CLI: --standardize)", "rate": "learning rate", "init": "init_scale"}  # train()'s words


def likely_cause(x, y, step, lr, advice=ADVICE):
    """What a divergence most likely comes from, as far as the data shows: inputs or targets far from
    unit scale (their squares overflow, or their gradients make every step huge), else the step size.
    advice: the cure for unscaled data and the names of the step size and the initial scale, in the
    caller's words (the CLI's by default; the scikit-learn estimators pass their own)."""
    big = unscaled(x, y)
    scale = f"unscaled {big}: {advice['cure']}" if big else ""
    if step == 1 or lr < TINY_LR:  # non-finite before any update, or despite a negligible one: not the step size
        return scale or f"this happened at {advice['rate']} {lr:g}, before the step size could matter: check the " \
                        f"data's magnitude and {advice['init']}"
    return f"{scale}, or try a smaller {advice['rate']} than {lr:g}" if big else None


def divergence(J, epoch, lr, x, y):
    """The Diverged error of an epoch (0-based) whose steps' J (steps,) are not all finite, or None."""
    bad = ~torch.isfinite(J)
    if not bad.any():
        return None
    step = epoch * len(J) + int(bad.nonzero()[0]) + 1  # steps before this epoch, then the first bad one
    return Diverged(step, epoch + 1, lr, likely_cause(x, y, step, lr))


def epoch_objective(losses, sizes, n):
    """The epoch's J: each step's J (..., steps) weighted by its batch's share of the n samples, so
    that a short last batch counts for its size; (...) is one value per member of a population."""
    return (losses * sizes).sum(-1).double() / n  # the sum in the network's dtype, the mean in float64


def epoch_record(epoch, J, lr, lam, accuracy=None, **more):
    """An epoch's record as train() returns it (epoch: 1-based, J its mean objective; more: other
    entries, those that are None left out); a run folder keeps J under "objective" only
    (runs.folder.stored), "loss" being its older name that callers may still read."""
    record = {"epoch": epoch, "objective": J, "loss": J, "lr": lr, "reg": lam, "accuracy": accuracy, **more}
    return {k: v for k, v in record.items() if v is not None}


@dataclass
class TrainState:
    """Where training stands: all that a checkpoint must hold to continue exactly.  train() starts
    at `epoch` and keeps the object current after every epoch, so passing it again resumes."""
    epoch: int = 0        # epochs finished
    velocity: list = None  # momentum buffers, one per parameter (None without momentum)
    best: tuple = None    # early stopping: (val_loss, epoch, state_dict) of the best epoch so far

    def improve(self, net, val_loss, patience):
        """Records this epoch if its validation loss is the best; True when patience has run out."""
        if self.best is None or val_loss < self.best[0]:
            self.best = (val_loss, self.epoch, net.state_dict())
        return self.epoch - self.best[1] >= patience


def eager_epoch(net, x, y, order, step):
    """One epoch of the readable loop, visiting the samples of x, y in `order` (step: sgd.Step, this
    epoch's loss, lr, λ, momentum, batch size).  Every engine takes these arguments and returns
    (J of every step, correct predictions of the epoch, how many steps lowered J on their own batch:
    counted only with step.check_steps)."""
    losses = []  # J of every step, kept on the device and read once an epoch
    correct = torch.zeros((), dtype=torch.long, device=net.device)
    down = 0
    for xb, yb in batches(x, y, order, step.batch_size):
        # forward
        v = net(xb)
        J = ops.objective(step.loss, v, yb, net.weights, step.lam)
        # backward
        J.backward()
        # update (sgd)
        sgd_step(net.parameters, step.lr, step.momentum, step.velocity)
        losses.append(J.detach())
        if step.labels:
            correct += (v.detach().argmax(1) == yb).sum()
        if step.check_steps:
            with torch.no_grad():
                down += bool(ops.objective(step.loss, net(xb), yb, net.weights, step.lam) < J)
    return torch.stack(losses), correct, down


ENGINES = {"eager": eager_epoch, "compiled": compiled.epoch, "manual": manual.epoch}  # name -> epoch function


def engine_for(engine, net, check_steps):
    """The epoch function of the engine asked for: a name in ENGINES (the compiled one falls back to
    eager, with a note, where it cannot run), or an epoch function itself."""
    if callable(engine):
        if distributed.active() and not getattr(engine, "data_parallel", False):
            raise UsageError("an epoch function of your own under torchrun would train each process alone: "
                             "pass an engine name, or distributed.epoch_function(name, check_steps, group)")
        return engine
    if engine not in ENGINES:
        raise UsageError(f"engine {engine!r} unknown: expected one of {', '.join(ENGINES)}")
    if distributed.active():  # torchrun started several processes: they train as one (engines.distributed)
        return distributed.epoch_function(engine, check_steps)
    if engine == "compiled" and (check_steps or not compiled.available(net)):
        if check_steps:
            warnings.warn("check_steps needs the eager engine (it inspects every step): using it")
        return eager_epoch
    return ENGINES[engine]


def epochs_left(state, epochs, patience, progress):
    """The epochs train() still runs (0-based), after a resumed run's state.epoch; none where early
    stopping had already stopped it; with a progress bar if asked."""
    stopped = patience and state.best is not None and state.epoch - state.best[1] >= patience
    left = range(state.epoch, state.epoch if stopped else epochs)
    if progress:
        from tqdm.auto import tqdm  # only where a progress bar is asked for
        left = tqdm(left, desc="train", unit="epoch", initial=state.epoch, total=epochs)
    return left


def validate(net, xv, yv, loss_fn, lam, patience, state, record):
    """Adds the validation loss (and accuracy) after an epoch to its record; with patience, keeps
    early stopping's best epoch.  Returns True when patience has run out."""
    scores = evaluate(net, xv, yv, loss_fn, lam)
    record["val_loss"] = scores["loss"]
    if "accuracy" in scores:
        record["val_accuracy"] = scores["accuracy"]
    if not patience:
        return False
    stop = state.improve(net, record["val_loss"], patience)
    record["best_epoch"] = state.best[1]
    return stop


def train(net, x, y, *, loss="mse", lr=0.01, epochs=10, batch_size=1, reg=0.0, reg_epochs=None, seed=None,
          momentum=0.0, schedule="constant", val=None, patience=0, check_steps=False, engine="eager",
          state=None, callback=None, progress=False, shuffle=True):
    """Trains net in place by minibatch SGD on J = L + λ Σ‖W_i‖²_F and returns the history.

    x: (N, fan_in); y: (N, fan_out) targets, or (N,) class indices for cross-entropy.
    reg_epochs: λ applies in this many first epochs, then λ = 0 (None: in every epoch).
    val: optional (x_val, y_val), evaluated after every epoch; patience > 0 stops when the
         validation loss has not improved for that many epochs and restores the best parameters;
         each record then carries 'best_epoch', the best epoch so far.
    check_steps: after every step, re-evaluates J on the same batch and counts how often it went
         down (the lab's sanity rule), reported per epoch as 'steps_down' (costs a host sync a step).
    engine: "eager" (the loop in eager_epoch), "compiled" (engines.compiled: the same steps),
         "manual" (engines.manual: the same steps, gradients from the ops' own backwards), or an
         epoch function of your own with eager_epoch's signature.
    state: a TrainState to continue from (a resumed run); train keeps it current either way.
    callback(record, state): called after every epoch; returning True stops training.
    shuffle: False visits the samples in their given order every epoch (scikit-learn's shuffle=False).
    Returns a list with one dict per epoch: epoch, objective (J = L + λ Σ‖W_i‖²_F, mean over the epoch's
    steps; also under its older name loss), lr, reg, time, ...
    """
    loss_fn = make_loss(loss)
    check_hyper(lr=lr, epochs=epochs, batch_size=batch_size, reg=reg, reg_epochs=reg_epochs, momentum=momentum,
                patience=patience)
    if schedule not in SCHEDULES:
        raise UsageError(f"schedule {schedule!r} unknown: expected one of {', '.join(SCHEDULES)}")
    if patience and val is None:
        raise UsageError(f"patience {patience} needs validation data: pass val (the CLI: --val-fraction)")
    check_fit(loss, y)  # before check_data: float class labels are named by their dtype, not their shape
    x, y = check_data(net, x, y)
    xv, yv = check_data(net, *val) if val is not None else (None, None)
    n, labels = x.shape[0], not y.dtype.is_floating_point
    batch_size = batch_size_for(batch_size, n)
    state = state if state is not None else TrainState()
    if momentum and state.velocity is None:
        state.velocity = [torch.zeros_like(p) for p in net.parameters]
    run_epoch = engine_for(engine, net, check_steps)
    plan = Schedule(lr, epochs, schedule, reg, reg_epochs, seed, shuffle)
    sizes = torch.tensor(batch_sizes(n, batch_size), dtype=net.dtype, device=net.device)
    steps = len(sizes)
    history = []
    for epoch in epochs_left(state, epochs, patience, progress):
        t0 = time.perf_counter()
        rate, lam = plan.lr_at(epoch), plan.reg_at(epoch)
        step = Step(loss_fn, rate, lam, momentum, state.velocity, batch_size, labels, check_steps)
        losses, correct, down = run_epoch(net, x, y, plan.order(n, epoch).to(net.device), step)
        if error := divergence(losses, epoch, rate, x, y):
            raise error
        # bookkeeping
        state.epoch = epoch + 1
        J = epoch_objective(losses, sizes, n).item()
        record = epoch_record(state.epoch, J, rate, lam, correct.item() / n if labels else None)
        if check_steps:
            record["steps_down"] = down / steps
        stop = validate(net, xv, yv, loss_fn, lam, patience, state, record) if xv is not None else False
        record["time"] = time.perf_counter() - t0
        history.append(record)
        if callback and callback(record, state):
            stop = True
        if distributed.any_rank(stop):  # with several processes, all of them stop in the same epoch
            break
    if patience and state.best is not None:
        net.load_state_dict(state.best[2])
    return history
