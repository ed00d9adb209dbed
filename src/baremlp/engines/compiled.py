"""The compiled engine: the same SGD steps as the eager loop, a whole epoch in one compiled call.

The eager loop pays PyTorch's per-operation dispatch and autograd bookkeeping on every
step, which for the lab's tiny 2-3-2 network is nearly all of its time.  Here one epoch is a
`scan` over the batches' sample indices idx, whose body is a pure function,

    (params, velocity), idx_k  ->  (params − lr · g, ...), J       with g, J = grad_and_value(J)(params, x[idx_k], y[idx_k])

and torch.compile turns that loop into one kernel-fused program (for larger layers it also folds
each update into its weight-gradient product).  Gradients still come from PyTorch autodiff
(torch.func), and the maths is the eager loop's: tests/test_compiled.py checks that both engines end
an epoch with the same parameters.  A population (baremlp.studies.stacked) runs this same epoch, vmapped over
its members: get_epoch(..., population=True).
"""
import warnings

import torch
from torch._higher_order_ops.scan import scan

from .. import ops
from ..model import build_layers, forward
from ..sgd import update

_compiled = {}


def make_epoch(loss_fn, momentum, labels):
    """An epoch function (params, velocity, x, y, idx, lr, lam) -> (params, velocity, J per step,
    correct per step): step k trains on the rows idx[k] of x, y; idx: (steps, B)."""

    # a built-in loss keeps what its backward needs on self: each trace makes its own, because the
    # scan may mutate nothing outside itself
    fresh_loss = type(loss_fn) if isinstance(loss_fn, tuple(ops.LOSSES.values())) else lambda: loss_fn

    def objective(params, xb, yb, lam):
        v = forward(build_layers(params), xb)  # (B, fan_out)
        return ops.objective(fresh_loss(), v, yb, params[0::2], lam), v

    grad_J = torch.func.grad_and_value(objective, has_aux=True)

    def step(carry, xb, yb, lr, lam):
        g, (J, v) = grad_J(carry[0], xb, yb, lam)
        params, velocity = [p.clone() for p in carry[0]], [u.clone() for u in carry[1]]  # scan's carry is read-only
        update(params, g, lr, momentum, velocity)
        correct = (v.argmax(1) == yb).sum() if labels else J.new_zeros((), dtype=torch.long)
        return (params, velocity), (J.detach(), correct)

    def epoch(params, velocity, x, y, idx, lr, lam):
        # each step gathers its own batch: a shuffled copy of the data costs ~10 % of an epoch
        gather = lambda c, i: step(c, x.index_select(0, i), y.index_select(0, i), lr, lam)
        (params, velocity), (Js, correct) = scan(gather, (params, velocity), idx)
        return params, velocity, Js, correct

    return epoch


def get_epoch(loss_fn, momentum, labels, population=False):
    """The compiled epoch function for this loss and momentum; compiled once, reused after.
    population=True maps it over a leading member axis of every argument (baremlp.studies.stacked)."""
    builtin = isinstance(loss_fn, (ops.MSELoss, ops.CrossEntropyLoss))  # stateless: one compile per class
    key = (type(loss_fn) if builtin else loss_fn, momentum, labels, population)
    if key not in _compiled:
        epoch = make_epoch(loss_fn, momentum, labels)
        if population:
            epoch = torch.func.vmap(epoch)  # member k: epoch(params[k], velocity[k], x[k], ..., lam[k])
        _compiled[key] = torch.compile(epoch, fullgraph=True, dynamic=False)
    return _compiled[key]


def scan_batches(epoch, params, velocity, x, y, order, batch_size, lr, lam):
    """Runs an epoch function over the samples in `order`: the full batches in one call, a final
    partial batch in a second call at its own size.  order: (n,), or (S, n) for a population.
    Returns (params, velocity, J of every step, correct of every step), the steps on the last axis."""
    n = order.shape[-1]
    full = n - n % batch_size
    Js, correct = [], []
    for lo, hi, b in ((0, full, batch_size), (full, n, n - full)):
        if hi > lo:
            idx = order[..., lo:hi].unflatten(-1, (-1, b))  # (steps, b), or (S, steps, b)
            params, velocity, J, c = epoch(params, velocity, x, y, idx, lr, lam)
            Js.append(J)
            correct.append(c)
    return params, velocity, torch.cat(Js, -1), torch.cat(correct, -1)


def epoch(net, x, y, order, step):
    """One epoch of SGD over the samples of x, y in the given order, as every engine takes it (step:
    sgd.Step; check_steps is the eager loop's alone); updates net's parameters (and step.velocity) in
    place.  Returns (J of every step, correct predictions, 0).  A final partial batch runs through the
    same function at its own size."""
    params = [p.detach() for p in net.parameters]
    velocity = list(step.velocity) if step.momentum else []  # an unchanged carry would alias, which scan refuses
    lr = torch.tensor(step.lr, dtype=net.dtype, device=net.device)  # tensors, so a new rate is no recompile
    lam = torch.tensor(step.lam, dtype=net.dtype, device=net.device)
    run = get_epoch(step.loss, step.momentum, step.labels)
    params, velocity, Js, correct = scan_batches(run, params, velocity, x, y, order, step.batch_size, lr, lam)
    with torch.no_grad():
        for p, new in zip(net.parameters, params):
            p.copy_(new)
        if step.momentum:
            for v, new in zip(step.velocity, velocity):
                v.copy_(new)
    return Js, correct.sum(), 0


def available(net):
    """True if torch.compile works here; otherwise warns once why and returns False (eager is used)."""
    key = ("available", net.device.type)
    if key not in _compiled:
        try:
            f = torch.compile(lambda a: a * 2 + 1, fullgraph=True)
            f(torch.ones(2, device=net.device))
            _compiled[key] = True
        except Exception as e:  # no C++ compiler, unsupported platform or Python: say so and go on
            warnings.warn(f"the compiled engine is unavailable here ({type(e).__name__}: {str(e).splitlines()[0]}); "
                          "using the eager engine")
            _compiled[key] = False
    return _compiled[key]
