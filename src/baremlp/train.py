"""The lab's loop: forward, J.backward(), an in-place SGD update, the gradients zeroed.

    for each epoch:
        shuffle the samples (the order is a function of seed and epoch alone)
        for each batch (x, y):
            J = L(net(x), y) + λ Σ‖W_i‖²_F       # forward
            J.backward()                          # backward: dJ/dp for every parameter p
            p ← p − lr · dJ/dp                    # update
            p.grad ← 0                            # zero the gradients

batch_size=1 is the lab's per-sample SGD; larger batches run as whole-batch tensor ops.  Nothing
on the hot path waits for the device (no .item() per step): losses stay on the device and are read
once an epoch.  An engine runs one epoch: the eager one is `eager_epoch` below, the others live in
baremlp.engines (compiled; manual: the ops' own backwards; with several processes the data-parallel
one).  What train() keeps around the epochs (its state, records and the divergence check) is in
baremlp.bookkeeping; schedules and sample orders in baremlp.sgd.
"""
import time
import warnings

import torch

from . import ops
from .bookkeeping import (ADVICE, Diverged, TrainState, divergence, epoch_objective, epoch_record,  # noqa: F401
                          likely_cause, unscaled)  # (callers of 0.1 and 0.2 import them from here)
from .engines import compiled, distributed, manual
from .errors import UsageError, check_data, check_fit, check_hyper
from .evaluation import evaluate
from .ops import make_loss
from .sgd import SCHEDULES, Schedule, Step, batch_size_for, batch_sizes, batches, update
from .sgd import epoch_order, lr_at, reg_at  # noqa: F401  (0.1's notebooks import them from here)


def eager_epoch(net, x, y, order, step):
    """One epoch of the lab's loop, visiting the samples of x, y in `order` (step: sgd.Step, this
    epoch's loss, lr, λ, momentum, batch size).  Every engine takes these arguments and returns
    (J of every step, correct predictions of the epoch, how many steps lowered J on their own batch:
    counted only with step.check_steps)."""
    losses = []  # J of every step, kept on the device and read once an epoch
    correct = torch.zeros((), dtype=torch.long, device=net.device)
    down = 0
    for xb, yb in batches(x, y, order, step.batch_size):        # xb (B, fan_in), yb (B, fan_out) or (B,)
        # forward
        v = net(xb)                                              # (B, fan_out)
        J = ops.objective(step.loss, v, yb, net.weights, step.lam)  # J = L + λ Σ‖W_i‖²_F, 0-dim
        # backward
        J.backward()                                             # p.grad = dJ/dp for every parameter p
        # update: the lab's p.data -= lr * p.grad, fused into one kernel (sgd.update; with momentum μ, v ← μv + g)
        with torch.no_grad():
            update(net.parameters, [p.grad for p in net.parameters], step.lr, step.momentum, step.velocity)
        # zero the gradients: the lab's p.grad.zero_(), with the buffer dropped rather than cleared
        for p in net.parameters:  # (backward() adds into an existing p.grad, so it is fresh either way, one kernel fewer)
            p.grad = None
        losses.append(J.detach())
        if step.labels:
            correct += (v.detach().argmax(1) == yb).sum()
        if step.check_steps:
            with torch.no_grad():
                down += bool(ops.objective(step.loss, net(xb), yb, net.weights, step.lam) < J)
    return torch.stack(losses), correct, down


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
    state = state if state is not None else TrainState()
    if momentum and state.velocity is None:
        state.velocity = [torch.zeros_like(p) for p in net.parameters]
    batch_size = batch_size_for(batch_size, n)
    plan = Schedule(lr, epochs, schedule, reg, reg_epochs, seed, shuffle)
    sizes = torch.tensor(batch_sizes(n, batch_size), dtype=net.dtype, device=net.device)
    steps = len(sizes)
    run_epoch = engine_for(engine, net, check_steps)
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
