"""Stochastic gradient descent, written once for every engine: the update rule, the learning-rate
schedules and the order in which an epoch visits the samples.

    v ← μ v + g          (momentum μ; with μ = 0, v = g)
    p ← p − lr · v

The order of an epoch is a function of (seed, epoch) alone, so a resumed run, a compiled run and a
run on several processes all see the batches an uninterrupted single run sees.
"""
import math
import warnings
from dataclasses import dataclass

import torch

SCHEDULES = ("constant", "step", "cosine")


@dataclass
class Step:
    """What an engine needs for the steps of one epoch, beside the data and the sample order
    (every engine's epoch function takes one: engine(net, x, y, order, step))."""
    loss: object             # the loss object L(v, y), with a backward for the manual engine
    lr: float                # this epoch's step size
    lam: float = 0.0         # this epoch's λ
    momentum: float = 0.0    # μ; 0 is the plain step
    velocity: list = None    # momentum buffers, one per parameter, updated in place (None without momentum)
    batch_size: int = 1      # samples per step; 1 is the lab's per-sample SGD
    labels: bool = False     # y holds class indices: count the correct predictions
    check_steps: bool = False  # re-evaluate J after each update (the eager engine alone)


@dataclass(frozen=True)
class Schedule:
    """What changes from epoch to epoch in one run: its lr, its λ and its sample order, each a
    function of the epoch alone (so a resumed run, and a population's member, sees the same)."""
    lr: float
    epochs: int
    schedule: str = "constant"
    reg: float = 0.0
    reg_epochs: int = None
    seed: int = None
    shuffle: bool = True

    def lr_at(self, epoch):
        return lr_at(self.lr, epoch, self.epochs, self.schedule)

    def reg_at(self, epoch):
        return reg_at(self.reg, self.reg_epochs, epoch)

    def order(self, n, epoch):
        return epoch_order(n, self.seed, epoch) if self.shuffle else torch.arange(n)


def lr_at(lr, epoch, epochs, schedule):
    """The learning rate for epoch (0-based): constant; step (÷10 at 50 % and again at 75 % of the
    epochs); or cosine, lr · ½(1 + cos(π · epoch / epochs))."""
    if schedule == "step":
        return lr * 0.1 ** ((epoch >= epochs / 2) + (epoch >= 3 * epochs / 4))
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return lr


def reg_at(reg, reg_epochs, epoch):
    """λ for epoch (0-based): reg in the first reg_epochs epochs, then 0 (reg_epochs None: always reg)."""
    return reg if reg_epochs is None or epoch < reg_epochs else 0.0


def epoch_order(n, seed, epoch):
    """The permutation of the n samples for this epoch.  It depends only on (seed, epoch), so a
    resumed run sees the same order as an uninterrupted one without saving any RNG state."""
    if seed is None:
        return torch.randperm(n)
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


def batch_sizes(n, batch_size):
    """The size of every step's batch in an epoch: full batches, then the short rest, if any."""
    return [min(batch_size, n - i) for i in range(0, n, batch_size)]


def batch_size_for(batch_size, n):
    """The batch size an epoch of n samples takes: batch_size, or all n (with a warning) where it asks for more."""
    if batch_size > n:
        warnings.warn(f"batch_size {batch_size} is larger than the {n} samples: using {n}")
        return n
    return batch_size


def batches(x, y, order, batch_size):
    """The (x, y) batches of an epoch, visiting the samples in `order`: rows (B, ...) each."""
    if batch_size == 1:
        xs, ys = x.index_select(0, order), y.index_select(0, order)  # one shuffled copy, cut into views
        return zip(xs.split(1), ys.split(1))
    # gather each batch, no copy of the whole data; index_select is ~5x faster than x[i] here
    return ((x.index_select(0, i), y.index_select(0, i)) for i in order.split(batch_size))


def update(params, grads, lr, momentum=0.0, velocity=None):
    """p ← p − lr · v with v ← μ v + g (PyTorch's form), in place on params and velocity.

    lr is a number in the eager loop; the compiled engine passes a 0-dim tensor so that a new rate
    does not recompile, and add_'s fused alpha takes numbers only."""
    for i, (p, g) in enumerate(zip(params, grads)):
        if momentum:
            g = velocity[i].mul_(momentum).add_(g)
        if isinstance(lr, torch.Tensor):
            p.sub_(lr * g)
        else:
            p.add_(g, alpha=-lr)  # one fused kernel, no temporary lr·g tensor


def sgd_step(params, lr, momentum=0.0, velocity=None):
    """The update with the gradients autograd left in p.grad, which are then cleared so that the
    next backward() does not add to them."""
    with torch.no_grad():
        update(params, [p.grad for p in params], lr, momentum, velocity)
    for p in params:
        p.grad = None
