"""The lab's computation graph for one batch (the sample the next step trains on), every variable with
its value, shape and ∂J/∂·:

    x → u = W x + b → h = ReLU(u) → v = M h + c → L = loss(v, y) → J = L + λ s,   s = ‖W‖²_F + ‖M‖²_F

The parameters' gradients are backprop.gradients' (the ops' own backwards, no autograd); the others
(∂J/∂x, ∂J/∂u, ∂J/∂h, ∂J/∂v) come from the same ops' backward methods, one op at a time; autograd
differentiates the same forward pass to show that they agree.  Deeper networks number their
layers: W1, b1, u1, h1, W2, ..., with M, c for the output layer.
"""
import torch

from .. import backprop, ops
from ..ops import make_loss
from ..model import build_layers, forward

MAX_ENTRIES = 4  # rows and columns of a value sent to the page (the lab's 2-3-2 whole); its shape says when there are more


def names(layers):
    """[(W, b, u, h) names of each hidden layer], and the output layer's (M, c): the lab's for one hidden layer."""
    if layers == 1:
        return [("W", "b", "u", "h")], ("M", "c")
    return [(f"W{i}", f"b{i}", f"u{i}", f"h{i}") for i in range(1, layers + 1)], ("M", "c")


def shown(t):
    """A tensor as the page shows it: its shape and its leading entries (at most MAX_ENTRIES per axis)."""
    t = t.detach().double().cpu()
    if t.dim() == 0:
        return {"shape": [], "value": t.item()}
    cut = t[:MAX_ENTRIES] if t.dim() == 1 else t[:MAX_ENTRIES, :MAX_ENTRIES]
    return {"shape": list(t.shape), "value": cut.tolist()}


def compute(net, x, y, loss, lam, rows=None):
    """The graph of the batch x (B, fan_in), y: {"nodes": {name: {value, grad, shape, kind}}, "edges",
    "order", "autograd_max_diff"}.  rows: the batch's sample indices in the data."""
    loss_fn = make_loss(loss)
    J_manual, grads = backprop.gradients(net, x, y, loss=loss, reg=lam)  # ∂J/∂W, ∂J/∂b, ...
    params = [p.detach() for p in net.parameters]
    with torch.no_grad():
        layers = build_layers(params)
        objective = ops.Objective(loss_fn)
        v = forward(layers, x)
        J = objective(v, y, params[0::2], lam)
        L = make_loss(loss)(v, y)
        s = sum((W * W).sum() for W in params[0::2])
        g, _ = objective.backward()  # ∂J/∂v
        back = {"v": g}
        for i in range(len(layers) - 1, -1, -1):  # the ops' backwards, one at a time, noting each gradient
            g = layers[i].backward(g)
            back[i] = g  # ∂J/∂(input of layer i)
    hidden, (M, c) = names(len(params) // 2 - 1)
    nodes, edges, order = {}, [], ["x"]
    nodes["x"] = {**shown(x), "grad": shown(back[0])["value"], "kind": "data"}
    prev = "x"
    for k, (Wn, bn, un, hn) in enumerate(hidden):
        relu = layers[2 * k + 1]
        nodes[Wn] = {**shown(params[2 * k]), "grad": shown(grads[2 * k])["value"], "kind": "param"}
        nodes[bn] = {**shown(params[2 * k + 1]), "grad": shown(grads[2 * k + 1])["value"], "kind": "param"}
        nodes[un] = {**shown(relu.u), "grad": shown(back[2 * k + 1])["value"], "kind": "var"}
        nodes[hn] = {**shown(layers[2 * k + 2].x), "grad": shown(back[2 * k + 2])["value"], "kind": "var"}
        edges += [[prev, un], [Wn, un], [bn, un], [un, hn]]
        order += [Wn, bn, un, hn]
        prev = hn
    nodes[M] = {**shown(params[-2]), "grad": shown(grads[-2])["value"], "kind": "param"}
    nodes[c] = {**shown(params[-1]), "grad": shown(grads[-1])["value"], "kind": "param"}
    nodes["v"] = {**shown(v), "grad": shown(back["v"])["value"], "kind": "var"}
    nodes["y"] = {**shown(y), "grad": None, "kind": "data"}
    nodes["L"] = {**shown(L), "grad": 1.0, "kind": "var"}
    nodes["s"] = {**shown(s), "grad": float(lam), "kind": "var"}
    nodes["J"] = {**shown(J), "grad": 1.0, "kind": "var"}
    edges += [[prev, "v"], [M, "v"], [c, "v"], ["v", "L"], ["y", "L"], ["L", "J"], ["s", "J"]]
    edges += [[W, "s"] for W, *_ in hidden] + [[M, "s"]]
    order += [M, c, "v", "y", "L", "s", "J"]
    return {"nodes": nodes, "edges": edges, "order": order, "rows": rows, "lambda": float(lam),
            "J_manual": J_manual.item(), "autograd_max_diff": autograd_difference(net, x, y, loss_fn, lam, grads)}


def autograd_difference(net, x, y, loss_fn, lam, grads):
    """max |∂J/∂p (the ops' backwards) − ∂J/∂p (autograd)| over every parameter entry."""
    params = [p.detach().clone().requires_grad_() for p in net.parameters]
    with torch.enable_grad():
        J = ops.objective(loss_fn, forward(build_layers(params), x), y, params[0::2], lam)
        auto = torch.autograd.grad(J, params)
    return max((g - a).abs().max().item() for g, a in zip(grads, auto))


def update(before, after, lr, momentum):
    """p ← p − lr·∂J/∂p for a step just taken: each parameter before and after (shown), keyed by name."""
    hidden, (M, c) = names(len(before) // 2 - 1)
    keys = [n for Wn, bn, *_ in hidden for n in (Wn, bn)] + [M, c]
    return {"lr": lr, "momentum": momentum, "params": {k: {"before": shown(b)["value"], "after": shown(a)["value"]}
                                                       for k, b, a in zip(keys, before, after)}}
