"""The training loop of the live page: train()'s epochs (the same order, schedules, λ rule,
divergence check, validation and early stopping), with each epoch cut into chunks of steps given to the
run's own engine, so that the page can stop, pause and step between any two steps.

An engine's epoch function visits the samples in the order it is given, a batch after another, so
running it on consecutive slices of an epoch's order (cut at batch boundaries) takes exactly the steps
it takes on the whole order: the page's run ends where the CLI's ends.  The compiled engine runs each
epoch in two halves (every new slice length compiles anew, so the halves are all the lengths there are);
after a Step in the middle of an epoch it finishes that epoch with the manual engine, the same steps
without compiling.
"""
import time

import torch

from .. import compiled
from ..backprop import manual_epoch
from ..errors import check_data
from ..evaluation import evaluate
from ..rundir import stored
from ..sgd import batch_size_for, batch_sizes, epoch_order, lr_at, reg_at
from ..train import divergence, engine_for, epoch_record

CHUNK_SECONDS = 0.03  # aim of one chunk's time: the page's stop, pause and frames act between chunks


class Stopped(Exception):
    """The page asked the training to stop."""


def train_live(session):
    """Trains session.net as session.s says, from session.state; returns the history (epoch records).
    session.gate(epoch, pos, order, batch, rate, lam) says before each chunk how many samples may go
    (0: a chunk as planned, k: just k, one Step's batch) or raises Stopped; session.after_chunk(...) and
    session.after_epoch(record) follow the chunks and the epochs."""
    s, net, d = session.s, session.net, session.data
    x, y = check_data(net, d.x, d.y)
    xv, yv = check_data(net, d.x_val, d.y_val) if d.x_val is not None else (None, None)
    n, labels = x.shape[0], not y.dtype.is_floating_point
    batch = batch_size_for(s.batch_size, n)
    sizes = torch.tensor(batch_sizes(n, batch), dtype=net.dtype, device=net.device)
    state = session.state
    if s.momentum and state.velocity is None:
        state.velocity = [torch.zeros_like(p) for p in net.parameters]
    run_epoch = engine_for(s.engine, net, s.check_steps)
    halves = run_epoch is compiled.run_epoch
    history, steps = session.history, max(1, int(64 // batch))
    for epoch in range(state.epoch, s.epochs):
        t0 = time.perf_counter()
        rate, lam = lr_at(s.lr, epoch, s.epochs, s.schedule), reg_at(s.reg, s.reg_epochs, epoch)
        order = epoch_order(n, s.seed, epoch).to(net.device)
        losses, correct, down, pos, engine = [], torch.zeros((), dtype=torch.long, device=net.device), 0, 0, run_epoch
        while pos < n:
            take = session.gate(epoch, pos, order, batch, rate, lam)
            if take:
                engine = manual_epoch if halves else run_epoch
            elif halves and engine is run_epoch:  # two halves of whole batches: one compiled shape, or two
                full = n // batch
                take = -(-full // 2) * batch if pos == 0 and full >= 2 else n - pos
            else:
                take = steps * batch
            take = min(take, n - pos)
            t = time.perf_counter()
            with session.lock:
                J, c, dn = engine(net, x, y, order[pos:pos + take], batch, session.loss_fn, rate, lam, s.momentum,
                                  state.velocity, labels, s.check_steps)
            losses.append(J)
            correct, down, pos = correct + c, down + dn, pos + take
            if not bool(torch.isfinite(J).all()):  # said at once, not at the epoch's end
                raise divergence(torch.cat(losses), epoch, rate, x, y)
            if not halves:  # about CHUNK_SECONDS a chunk, in whole batches
                spent = max(time.perf_counter() - t, 1e-4)
                steps = max(1, min(4 * steps, int(CHUNK_SECONDS * take / (batch * spent))))
            session.after_chunk(epoch, pos, order, batch, lam, J)
        if error := divergence(torch.cat(losses), epoch, rate, x, y):
            raise error
        state.epoch = epoch + 1
        J = (torch.cat(losses) * sizes).sum().item() / n
        record = epoch_record(state.epoch, J, rate, lam, correct.item() / n if labels else None)
        if s.check_steps:
            record["steps_down"] = down / len(sizes)
        stop = False
        if xv is not None:
            scores = evaluate(net, xv, yv, session.loss_fn, lam)
            record["val_loss"] = scores["loss"]
            if "accuracy" in scores:
                record["val_accuracy"] = scores["accuracy"]
            if s.patience:
                stop = state.improve(net, record["val_loss"], s.patience)
                record["best_epoch"] = state.best[1]
        record["time"] = time.perf_counter() - t0
        history.append(stored(record))
        session.after_epoch(record)
        if stop:
            break
    if s.patience and state.best is not None:
        with session.lock:
            net.load_state_dict(state.best[2])
    return history
