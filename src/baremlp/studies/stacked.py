"""A population's training (baremlp.studies.population): the members' networks stacked on a leading
axis, trained epoch by epoch as train.train trains one network, with the same schedule (sgd.Schedule),
divergence check (bookkeeping.divergence) and records (bookkeeping.epoch_record) for each member.

    params_i: (S, ...)  ->  the compiled engine's epoch, vmapped over the members  ->  params_i: (S, ...)

Each member k takes its own steps (its data x[k], its sample order, its lr and λ) through the same
ops.objective and sgd.update as a single run; only the bookkeeping (divergence, per-epoch records)
is done here for all members at once.
"""
import contextlib
import time

import torch

from .. import analysis
from ..engines import compiled
from ..ops import make_loss
from ..sgd import Schedule, batch_size_for, batch_sizes
from ..bookkeeping import divergence, epoch_objective, epoch_record


class Population:
    """The members' networks with their parameters stacked on a leading axis: W_i (S, fan_out, fan_in),
    b_i (S, fan_out).  analysis.effective_map works on it as on one MLP (W @ A multiplies member by
    member) and gives A: (S, fan_out, fan_in)."""

    def __init__(self, nets):
        self.nets = nets
        self.parameters = [torch.stack([net.parameters[i].detach() for net in nets])
                           for i in range(len(nets[0].parameters))]

    @property
    def weights(self):
        return self.parameters[0::2]

    def unstack(self):
        """Copies each member's parameters back into its own MLP."""
        with torch.no_grad():
            for k, net in enumerate(self.nets):
                for p, stacked in zip(net.parameters, self.parameters):
                    p.copy_(stacked[k])


@contextlib.contextmanager
def one_thread():
    """A population step is a dozen small kernels: threads would spend more on meeting than on work
    (20x slower on a busy 2-core machine), so one process uses one thread; `workers` adds processes.
    Every population size is its own compile, and all of them count against one compiled function:
    dynamo's limit of 8 (then it falls back to far slower uncompiled code) is raised to 64 meanwhile."""
    import torch._dynamo  # the compiler's machinery: loaded only where a population trains
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch._dynamo.config.patch(recompile_limit=64):
            yield
    finally:
        torch.set_num_threads(before)


def schedule_of(s):
    """A member's sgd.Schedule, the one its single run (train.train) follows."""
    return Schedule(s.lr, s.epochs, s.schedule, s.reg, s.reg_epochs, s.seed)


def train(members, nets, data, loss, track_map=False):
    """Trains the members' networks together, in place (loss: its name; track_map: records carry each
    member's M W).  Returns, for each member, its history (one record per epoch, bookkeeping.epoch_record's),
    its momentum buffers (one per parameter, as a TrainState holds them; None without momentum) and
    the bookkeeping.Diverged error of its divergence (None where it did not diverge: the error a single run
    would raise, with its step, epoch and likely cause)."""
    s, S = members[0], len(members)
    loss_fn = make_loss(loss)
    pop = Population(nets)
    device, dtype = nets[0].device, nets[0].dtype
    x = torch.stack([d.x for d in data]).to(device, dtype)  # (S, N, fan_in)
    y = torch.stack([d.y for d in data]).to(device)  # (S, N, fan_out) targets, or (S, N) class indices
    labels = not y.dtype.is_floating_point
    y = y if labels else y.to(dtype)
    n = x.shape[1]
    batch_size = batch_size_for(s.batch_size, n)
    sizes = torch.tensor(batch_sizes(n, batch_size), dtype=dtype, device=device)  # (steps,)
    velocity = [torch.zeros_like(p) for p in pop.parameters] if s.momentum else []
    epoch_fn = compiled.get_epoch(loss_fn, s.momentum, labels, population=True)
    plans = [schedule_of(m) for m in members]
    histories, diverged = [[] for _ in members], [None] * S
    for epoch in range(s.epochs):
        t0 = time.perf_counter()
        rates, lams = [p.lr_at(epoch) for p in plans], [p.reg_at(epoch) for p in plans]
        first = {m.seed: plan for m, plan in zip(members, plans)}  # one shuffle per seed: its members share it
        orders = {seed: plan.order(n, epoch) for seed, plan in first.items()}
        order = torch.stack([orders[m.seed] for m in members]).to(device)  # (S, n)
        pop.parameters, velocity, J, correct = compiled.scan_batches(
            epoch_fn, pop.parameters, velocity, x, y, order, batch_size,
            torch.tensor(rates, dtype=dtype, device=device), torch.tensor(lams, dtype=dtype, device=device))
        # bookkeeping, as train.train does it for one network: J (S, steps), correct (S, steps)
        for k in (~torch.isfinite(J)).any(1).nonzero().flatten().tolist():  # one check for all members
            if diverged[k] is None:
                diverged[k] = divergence(J[k], epoch, rates[k], x[k], y[k])
        if all(d is not None for d in diverged):
            break
        losses = epoch_objective(J, sizes, n).tolist()
        accuracy = (correct.sum(1) / n).tolist() if labels else [None] * S
        maps = analysis.effective_map(pop).tolist() if track_map else [None] * S
        seconds = time.perf_counter() - t0
        for k in (k for k in range(S) if diverged[k] is None):
            histories[k].append(epoch_record(epoch + 1, losses[k], rates[k], lams[k], accuracy[k],
                                             time=seconds, effective_map=maps[k]))
    pop.unstack()
    velocities = [[v[k] for v in velocity] if velocity else None for k in range(S)]  # (S, ...) -> S lists
    return histories, velocities, diverged
