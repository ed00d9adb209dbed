"""The training loop: forward, J.backward(), an in-place SGD update, gradients cleared.

    for each epoch:
        shuffle the samples (the order is a function of seed and epoch alone)
        for each batch (x, y):
            J = L(net(x), y) + λ Σ‖W_i‖²_F       # forward
            J.backward()                          # backward: dJ/dp for every parameter p
            p ← p − lr · dJ/dp, then p.grad = 0   # update (sgd)

batch_size=1 is the lab's per-sample SGD; larger batches run as whole-batch
tensor ops.  Nothing on the hot path waits for the device (no .item() per
step): losses stay on the device and are read once an epoch.
"""
import math
import time
import warnings

import torch

from . import ops
from .checks import UsageError, UsageTypeError, check_data, check_hyper, number

SCHEDULES = ("constant", "step", "cosine")
ENGINES = ("eager", "compiled")


class Diverged(RuntimeError):
    """The objective became NaN or infinite; `step` is the first update that produced it (1-based)."""

    def __init__(self, step, epoch, lr):
        self.step, self.epoch = step, epoch
        super().__init__(f"training diverged: the objective became non-finite at step {step} (epoch {epoch}); "
                         f"try a smaller learning rate than {lr:g}")


def lr_at(lr, epoch, epochs, schedule):
    """The learning rate for epoch (0-based): constant; step (÷10 at 50 % and again at 75 % of the
    epochs); or cosine, lr · ½(1 + cos(π · epoch / epochs))."""
    if schedule == "step":
        return lr * 0.1 ** ((epoch >= epochs / 2) + (epoch >= 3 * epochs / 4))
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return lr


def epoch_order(n, seed, epoch):
    """The permutation of the n samples for this epoch.  It depends only on (seed, epoch), so a
    resumed run sees the same order as an uninterrupted one without saving any RNG state."""
    if seed is None:
        return torch.randperm(n)
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


def sgd_step(params, lr, momentum=0.0, velocity=None):
    """p ← p − lr · g, in place; with momentum μ: v ← μ v + g, p ← p − lr · v (PyTorch's form).
    Then the gradients are cleared so the next backward() does not add to them."""
    with torch.no_grad():
        for i, p in enumerate(params):
            g = p.grad
            if momentum:
                g = velocity[i].mul_(momentum).add_(g)
            p.add_(g, alpha=-lr)  # one fused kernel, no temporary lr·g tensor
            p.grad = None


def use_compiled(engine, net, check_steps):
    if engine not in ENGINES:
        raise UsageError(f"engine {engine!r} unknown: expected one of {', '.join(ENGINES)}")
    if engine == "eager":
        return False
    if check_steps:
        warnings.warn("check_steps needs the eager engine (it inspects every step): using it")
        return False
    from . import fast  # torch.compile and its scan load only for this engine
    return fast.available(net)


def get_loss(loss):
    if isinstance(loss, str):
        if loss not in ops.LOSSES:
            raise UsageError(f"loss {loss!r} unknown: expected one of {', '.join(ops.LOSSES)} or a loss object")
        return ops.LOSSES[loss]()
    if not callable(loss):
        raise UsageTypeError(f"loss {loss!r} invalid: expected a name or a callable loss(v, y)")
    return loss


def evaluate(net, x, y, loss="mse", reg=0.0):
    """The full-data objective and, for class labels, the accuracy: {'loss': L, 'objective': J, 'accuracy'}."""
    loss_fn = get_loss(loss)
    x, y = x.to(net.device, net.dtype), y.to(net.device)
    with torch.inference_mode():
        v = net(x)
        if y.dtype.is_floating_point:
            y = y.to(net.dtype)
        out = {"loss": loss_fn(v, y).item(), "objective": ops.objective(loss_fn, v, y, net.weights, reg).item()}
        if not y.dtype.is_floating_point:
            out["accuracy"] = (v.argmax(1) == y).double().mean().item()
    return out


def train(net, x, y, *, loss="mse", lr=0.01, epochs=10, batch_size=1, reg=0.0, reg_epochs=None, seed=None,
          momentum=0.0, schedule="constant", check_steps=False, val=None, patience=0,
          start_epoch=0, velocity=None, best=None, callback=None, progress=False, engine="eager"):
    """Trains net in place by minibatch SGD on J = L + λ Σ‖W_i‖²_F and returns the history.

    x: (N, fan_in); y: (N, fan_out) targets, or (N,) class indices for cross-entropy.
    reg_epochs: λ applies in this many first epochs, then λ = 0 (None: in every epoch).
    val: optional (x_val, y_val), evaluated after every epoch; patience > 0 stops when the
         validation loss has not improved for that many epochs and restores the best parameters;
         each record then carries 'best_epoch', the best epoch so far.
    check_steps: after every step, re-evaluates J on the same batch and counts how often it went
         down (the lab's sanity rule), reported per epoch as 'steps_down' (costs a host sync a step).
    start_epoch, velocity: to resume a run (momentum buffers as saved by a callback);
         best: with patience, (val_loss, epoch, state_dict) of the best epoch before start_epoch.
    callback(record, velocity): called after every epoch; returning True stops training.
    engine: "eager" (the loop below) or "compiled" (baremlp.fast: the same steps, an epoch per call).
    Returns a list with one dict per epoch: epoch, loss (mean J over the epoch's steps), lr, time, ...
    """
    loss_fn = get_loss(loss)
    check_hyper(lr=lr, epochs=epochs, batch_size=batch_size, reg=reg, momentum=momentum, patience=patience)
    if reg_epochs is not None:
        number("reg_epochs", reg_epochs, low=0, whole=True)
    if schedule not in SCHEDULES:
        raise UsageError(f"schedule {schedule!r} unknown: expected one of {', '.join(SCHEDULES)}")
    x, y = check_data(net, x, y)
    n = x.shape[0]
    if batch_size > n:
        warnings.warn(f"batch_size {batch_size} is larger than the {n} samples: using {n}")
        batch_size = n
    params = net.parameters
    if velocity is None:
        velocity = [torch.zeros_like(p) for p in params] if momentum else None
    xv, yv = check_data(net, *val) if val is not None else (None, None)
    if patience and val is None:
        raise UsageError(f"patience {patience} needs validation data: pass val (the CLI: --val-fraction)")
    labels = not y.dtype.is_floating_point
    steps = math.ceil(n / batch_size)
    sizes = torch.tensor([min(batch_size, n - i) for i in range(0, n, batch_size)], dtype=net.dtype, device=net.device)
    history = []
    best_loss, best_epoch, best_state = best if best is not None and patience else (math.inf, 0, None)
    compiled = use_compiled(engine, net, check_steps)
    stopped = bool(patience) and best_state is not None and start_epoch - best_epoch >= patience  # resumed at the stop
    epoch_range = range(start_epoch, start_epoch if stopped else epochs)
    if progress:
        from tqdm.auto import tqdm
        epoch_range = tqdm(epoch_range, desc="train", unit="epoch", initial=start_epoch, total=epochs)
    for epoch in epoch_range:
        t0 = time.perf_counter()
        rate = lr_at(lr, epoch, epochs, schedule)
        lam = reg if reg_epochs is None or epoch < reg_epochs else 0.0
        order = epoch_order(n, seed, epoch).to(net.device)
        down = 0
        if compiled:  # gathers each batch inside its compiled loop
            from .fast import run_epoch
            losses, correct = run_epoch(net, x, y, order, batch_size, loss_fn, rate, lam, momentum, velocity, labels)
        else:
            if batch_size == 1:
                xs, ys = x.index_select(0, order), y.index_select(0, order)  # one shuffled copy, cut into views
                batches = zip(xs.split(1), ys.split(1))
            else:  # gather each batch, no copy of the whole data; index_select is ~5x faster than x[i] here
                batches = ((x.index_select(0, i), y.index_select(0, i)) for i in order.split(batch_size))
            losses = []  # J of every step, kept on the device and read once an epoch
            correct = torch.zeros((), dtype=torch.long, device=net.device)
            for xb, yb in batches:
                # forward
                v = net(xb)
                J = ops.objective(loss_fn, v, yb, net.weights, lam)
                # backward
                J.backward()
                # update (sgd)
                sgd_step(params, rate, momentum, velocity)
                losses.append(J.detach())
                if labels:
                    correct += (v.detach().argmax(1) == yb).sum()
                if check_steps:
                    with torch.no_grad():
                        down += bool(ops.objective(loss_fn, net(xb), yb, net.weights, lam) < J)
            losses = torch.stack(losses)
        bad = ~torch.isfinite(losses)
        if bad.any():
            raise Diverged(epoch * steps + int(bad.nonzero()[0]) + 1, epoch + 1, rate)
        record = {"epoch": epoch + 1, "loss": (losses * sizes).sum().item() / n, "lr": rate, "reg": lam}
        if labels:
            record["accuracy"] = correct.item() / n
        if check_steps:
            record["steps_down"] = down / steps
        if xv is not None:
            scores = evaluate(net, xv, yv, loss_fn, lam)
            record["val_loss"] = scores["loss"]
            if "accuracy" in scores:
                record["val_accuracy"] = scores["accuracy"]
        stop = False
        if patience:
            if record["val_loss"] < best_loss:
                best_loss, best_epoch, best_state = record["val_loss"], epoch + 1, net.state_dict()
            record["best_epoch"] = best_epoch
            stop = epoch + 1 - best_epoch >= patience
        record["time"] = time.perf_counter() - t0
        history.append(record)
        if callback and callback(record, velocity):
            stop = True
        if stop:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    return history
