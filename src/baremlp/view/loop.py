"""The training of the live page: train.train itself (the same order, schedules, λ rule, divergence
check, validation and early stopping), given an epoch function that hands the run's own engine one
chunk of the epoch's steps at a time, so that the page can stop, pause and step between any two steps.

An engine's epoch function visits the samples in the order it is given, a batch after another, so
running it on consecutive slices of an epoch's order (cut at batch boundaries) takes exactly the steps
it takes on the whole order: the page's run ends where the CLI's ends.  The compiled engine runs each
epoch in two halves (every new slice length compiles anew, so the halves are all the lengths there are);
after a Step in the middle of an epoch it finishes that epoch with the manual engine, the same steps
without compiling.
"""
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..engines import compiled, manual
from ..bookkeeping import divergence
from ..runs.folder import stored
from ..runs.runner import train_kwargs
from ..sgd import batch_sizes
from ..train import engine_for, train

CHUNK_SECONDS = 0.03  # aim of one chunk's time: the page's stop, pause and frames act between chunks


class Stopped(Exception):
    """The page asked the training to stop."""


@dataclass
class Callbacks:
    """What the loop asks of the page, and nothing else of it.

    gate(epoch, pos, order, batch, rate, lam), before each chunk: how many samples may go (0: a chunk as
    planned, k: just k, one Step's batch), or raises Stopped.  after_chunk(epoch, pos, order, batch, lam, J)
    after each chunk (J: its steps' objectives); after_epoch(record) after each epoch (its record, J as
    "objective" only, as a run folder keeps it).  lock: held while a chunk changes the network."""
    gate: Callable
    after_chunk: Callable
    after_epoch: Callable
    lock: threading.Lock = field(default_factory=threading.Lock)


def train_live(net, data, s, *, loss, state, calls):
    """Trains net on data as settings s say, from state (a TrainState, kept current), with the loss
    function `loss`; calls: the page's Callbacks.  Returns the history, as train() does."""
    def after_epoch(record, state):
        calls.after_epoch(stored(record))
        return False

    return train(net, data.x, data.y, loss=loss, state=state, callback=after_epoch,
                 engine=in_chunks(engine_for(s.engine, net, s.check_steps), state, calls), **train_kwargs(s, data))


def in_chunks(engine, state, calls):
    """An epoch function for train(): `engine` on consecutive slices of the epoch's order, with the
    page's gate before each slice and its frame after."""
    halves = engine is compiled.epoch
    chunk = {"steps": None}  # batches a chunk: adapted to take about CHUNK_SECONDS

    def epoch(net, x, y, order, step):
        e, n, batch = state.epoch, len(order), step.batch_size  # train() counts the epoch after it
        chunk["steps"] = chunk["steps"] or max(1, int(64 // batch))
        losses, correct, down, pos, run = [], torch.zeros((), dtype=torch.long, device=net.device), 0, 0, engine
        while pos < n:
            take = calls.gate(e, pos, order, batch, step.lr, step.lam)
            if take:
                run = manual.epoch if halves else engine
            elif halves and run is engine:  # two halves of whole batches: one compiled shape, or two
                full = n // batch
                take = -(-full // 2) * batch if pos == 0 and full >= 2 else n - pos
            else:
                take = chunk["steps"] * batch
            take = min(take, n - pos)
            t = time.perf_counter()
            with calls.lock:
                J, c, dn = run(net, x, y, order[pos:pos + take], step)
            losses.append(J)
            correct, down, pos = correct + c, down + dn, pos + take
            if not bool(torch.isfinite(J).all()):  # said at once, not at the epoch's end
                raise diverged_now(losses, e, step, x, y, n)
            if not halves:  # about CHUNK_SECONDS a chunk, in whole batches
                spent = max(time.perf_counter() - t, 1e-4)
                chunk["steps"] = max(1, min(4 * chunk["steps"], int(CHUNK_SECONDS * take / (batch * spent))))
            calls.after_chunk(e, pos, order, batch, step.lam, J)
        return torch.cat(losses), correct, down
    return epoch


def diverged_now(losses, epoch, step, x, y, n):
    """train.divergence's error for a part of an epoch: J of the steps so far, the rest counted finite,
    so that the step it names is counted from the epoch's start as at the epoch's end."""
    J = torch.cat(losses)
    J = torch.cat([J, J.new_zeros(len(batch_sizes(n, step.batch_size)) - len(J))])
    return divergence(J, epoch, step.lr, x, y)
