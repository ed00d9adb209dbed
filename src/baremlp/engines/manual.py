"""The manual engine: the eager loop's steps with the ops' own backwards (baremlp.backprop) in
place of J.backward().  No graph is built, so a per-sample step costs a fraction of autograd's.

    for each batch:  J, v, grads = backprop.step(...)     # forward and backward, by hand
                     p ← p − lr · v (sgd.update)           # update
"""
import torch

from .. import ops
from ..backprop import check_loss, step as forward_backward
from ..model import build_layers
from ..sgd import batches, update


def epoch(net, x, y, order, step):
    """One epoch over the samples of x, y in `order`, as every engine takes it (step: sgd.Step).
    Returns (J of every step, correct predictions, how many steps lowered J: with check_steps)."""
    check_loss(step.loss)
    objective, params = ops.Objective(step.loss), net.parameters
    layers = build_layers(params)  # this epoch's ops, each keeping what its backward needs
    losses = []  # J of every step, kept on the device and read once an epoch
    correct = torch.zeros((), dtype=torch.long, device=net.device)
    down = 0
    with torch.no_grad():  # nothing here is for autograd: no graph is built at all
        for xb, yb in batches(x, y, order, step.batch_size):
            # forward and backward
            J, v, grads = forward_backward(layers, xb, yb, objective, step.lam)
            # update (sgd)
            update(params, grads, step.lr, step.momentum, step.velocity)
            losses.append(J)
            if step.labels:
                correct += (v.argmax(1) == yb).sum()
            if step.check_steps:
                down += bool(ops.objective(step.loss, net(xb), yb, net.weights, step.lam) < J)
    return torch.stack(losses), correct, down
