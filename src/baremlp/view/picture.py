"""What the page draws of a network, computed in the training's thread from one forward pass per frame:
the function or decision regions over the input plane, each hidden unit's ReLU activity there and its
share of the training samples, and the lab's computation graph for the batch the next step trains on:

    x → u = W x + b → h = ReLU(u) → v = M h + c → L = loss(v, y) → J = L + λ s,   s = ‖W‖²_F + ‖M‖²_F

The plane's cells, the training inputs and the graph's batch go through the network's own ops as one
batch, split after.  The graph's ∂J/∂· come from the same ops' backward methods, one op at a time, as
backprop.backward runs them (no autograd); autograd differentiates the same forward pass to show that
they agree.  Deeper networks number their layers: W1, b1, u1, h1, W2, ..., with M, c for the output
layer.  Pictures travel as base64 bytes (a byte per cell, a bit per cell for ReLU activity), so that a
frame stays a few kilobytes at 20 frames a second.
"""
import base64

import numpy as np
import torch

from .. import analysis, ops
from ..model import build_layers, forward
from ..ops import make_loss

GRID = 48         # cells per side of the input plane
MAX_UNITS = 16    # hidden units drawn per layer (the network and the ReLU maps)
MAX_POINTS = 400  # training points drawn over the plane
MAX_ENTRIES = 4   # rows and columns of a value in the graph (the lab's 2-3-2 whole); its shape says when there are more


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


class Plane:
    """The input plane of data with 2 inputs: its bounds (the training inputs' range and a margin),
    the GRID × GRID cell centres (row 0 at the top, the largest x₂) and the samples drawn."""

    def __init__(self, data, net):
        x = data.x
        lo, hi = x.min(0).values.double(), x.max(0).values.double()
        pad = (hi - lo).clamp_min(1e-6) * 0.05
        self.bounds = [(lo[0] - pad[0]).item(), (hi[0] + pad[0]).item(), (lo[1] - pad[1]).item(), (hi[1] + pad[1]).item()]
        x1 = torch.linspace(self.bounds[0], self.bounds[1], GRID, dtype=torch.float64)
        x2 = torch.linspace(self.bounds[3], self.bounds[2], GRID, dtype=torch.float64)
        g2, g1 = torch.meshgrid(x2, x1, indexing="ij")
        self.points = torch.stack([g1.flatten(), g2.flatten()], 1).to(net.device, net.dtype)  # (GRID², 2)
        self.samples = drawn(x, data.y)
        self.test = drawn(data.x_test, data.y_test) if data.x_test is not None else None
        self.classes, self.features = data.classes, data.inputs or ["x₁", "x₂"]

    def describe(self):
        return {"grid": GRID, "bounds": self.bounds, "samples": self.samples, "test": self.test,
                "classes": self.classes, "features": self.features}


def drawn(x, y):
    """At most MAX_POINTS samples, spread over the data, as lists."""
    keep = torch.linspace(0, len(x) - 1, min(MAX_POINTS, len(x))).long()
    y = y[keep]
    return {"x": x[keep].double().tolist(), "y": y.tolist() if not y.dtype.is_floating_point else y.double().tolist()}


def draw(net, plane=None, x=None, batch=None):
    """One forward pass over [plane's cells; x; batch's inputs], split: {"function", "maps"} with a plane,
    "active" (each hidden unit's share of x it is on, at most MAX_UNITS a layer) with x, "graph" with a
    batch = (x, y, loss name, λ, the rows' indices in the data)."""
    parts = [p for p in (plane.points if plane else None, x, batch[0] if batch else None) if p is not None]
    if not parts:
        return {}
    ends = np.cumsum([0] + [len(p) for p in parts]).tolist()
    grad = batch is not None  # autograd only for the graph's check
    params = [p.detach().requires_grad_(grad) if grad else p.detach() for p in net.parameters]
    with torch.enable_grad() if grad else torch.inference_mode():
        layers = build_layers(params)  # the network's own ops: each keeps its input (Linear) or u (ReLU)
        v = forward(layers, (torch.cat(parts) if len(parts) > 1 else parts[0]).to(net.device, net.dtype))
    relus, out, k = layers[1::2], {}, 0
    if plane:
        cut = slice(ends[0], ends[1])
        out["function"] = function(v[cut].detach().double().cpu().numpy(), plane.classes)
        out["maps"] = [b64(np.packbits((r.u[cut, :MAX_UNITS] > 0).T.cpu().numpy(), axis=1)) for r in relus]
        k += 1
    if x is not None:
        cut = slice(ends[k], ends[k + 1])
        out["active"] = [(r.u[cut, :MAX_UNITS] > 0).double().mean(0).tolist() for r in relus]
        k += 1
    if batch:
        out["graph"] = graph(layers, params, v[ends[k]:], batch)
    return out


def function(v, classes):
    """The network's outputs over the plane, v (GRID², outputs): for classes the predicted class and its
    probability per cell; for regression each output per cell as bytes over its own range [low, high]."""
    if classes:
        e = np.exp(v - v.max(1, keepdims=True))  # softmax for the picture only; training never calls it
        p = e / e.sum(1, keepdims=True)
        return {"kind": "classes", "class": b64(p.argmax(1).astype(np.uint8)),
                "confidence": b64(np.round(p.max(1) * 255).astype(np.uint8))}
    lo, hi = v.min(0), v.max(0)
    scaled = np.clip(np.round((v - lo) / np.maximum(hi - lo, 1e-12) * 255), 0, 255).astype(np.uint8)
    return {"kind": "values", "outputs": [{"low": float(lo[k]), "high": float(hi[k]), "bytes": b64(scaled[:, k])}
                                          for k in range(v.shape[1])]}


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


def graph(layers, params, v, batch):
    """The graph of the batch, whose outputs v are the last rows of the forward pass layers just made:
    {"nodes": {name: {value, grad, shape, kind}}, "edges", "order", "rows", "autograd_max_diff", ...}."""
    x, y, loss, lam, rows = batch
    n = len(x)
    loss_fn, objective = make_loss(loss), ops.Objective(make_loss(loss))
    J = objective(v, y, params[0::2], lam)
    auto = torch.autograd.grad(J, params)  # autograd, on the same forward pass: the check
    with torch.no_grad():
        for layer in layers:  # the ops keep what their backwards need: the batch's rows of it
            if isinstance(layer, ops.ReLU):
                layer.u = layer.u[-n:]
            else:
                layer.x = layer.x[-n:]
        L, s = loss_fn(v, y), sum((W * W).sum() for W in params[0::2])
        g, penalty = objective.backward()  # ∂J/∂v, [2λ W_i]
        back = {"v": g}
        for i in range(len(layers) - 1, -1, -1):  # the ops' backwards, one at a time, noting each gradient
            g = back[i] = layers[i].backward(g)  # ∂J/∂(input of layer i)
        grads = [t for i, lin in enumerate(layers[0::2]) for t in (lin.dW + penalty[i] if penalty else lin.dW, lin.db)]
    hidden, (M, c) = names(len(params) // 2 - 1)
    nodes, edges, order, prev = {}, [], ["x"], "x"
    node = lambda t, grad, kind: {**shown(t), "grad": grad if grad is None or isinstance(grad, float) else shown(grad)["value"], "kind": kind}  # noqa: E731
    nodes["x"] = node(x, back[0], "data")
    for k, (Wn, bn, un, hn) in enumerate(hidden):
        nodes[Wn], nodes[bn] = node(params[2 * k], grads[2 * k], "param"), node(params[2 * k + 1], grads[2 * k + 1], "param")
        nodes[un] = node(layers[2 * k + 1].u, back[2 * k + 1], "var")
        nodes[hn] = node(layers[2 * k + 2].x, back[2 * k + 2], "var")
        edges += [[prev, un], [Wn, un], [bn, un], [un, hn]]
        order += [Wn, bn, un, hn]
        prev = hn
    nodes[M], nodes[c] = node(params[-2], grads[-2], "param"), node(params[-1], grads[-1], "param")
    nodes["v"], nodes["y"] = node(v, back["v"], "var"), node(y, None, "data")
    nodes["L"], nodes["s"], nodes["J"] = node(L, 1.0, "var"), node(s, float(lam), "var"), node(J, 1.0, "var")
    edges += [[prev, "v"], [M, "v"], [c, "v"], ["v", "L"], ["y", "L"], ["L", "J"], ["s", "J"]]
    edges += [[W, "s"] for W, *_ in hidden] + [[M, "s"]]
    order += [M, c, "v", "y", "L", "s", "J"]
    return {"nodes": nodes, "edges": edges, "order": order, "rows": rows, "lambda": float(lam), "J_manual": J.item(),
            "autograd_max_diff": max((g - a).abs().max().item() for g, a in zip(grads, auto))}


def update(before, after, lr, momentum):
    """p ← p − lr·∂J/∂p for a step just taken: each parameter before and after (shown), keyed by name."""
    hidden, (M, c) = names(len(before) // 2 - 1)
    keys = [n for Wn, bn, *_ in hidden for n in (Wn, bn)] + [M, c]
    return {"lr": lr, "momentum": momentum, "params": {k: {"before": shown(b)["value"], "after": shown(a)["value"]}
                                                       for k, b, a in zip(keys, before, after)}}


def weights_frame(net):
    """The weight matrices (at most MAX_UNITS units a layer) and biases, rounded, for the network's drawing."""
    with torch.inference_mode():
        layers = [{"W": W[:MAX_UNITS, :MAX_UNITS].double().cpu().numpy().round(5).tolist(),
                   "b": b[:MAX_UNITS].double().cpu().numpy().round(5).tolist()} for W, b in zip(net.weights, net.biases)]
    return {"sizes": net.sizes, "layers": layers}


def map_frame(net):
    """M W next to R and max |M W − R| (analysis.effective_map, as the summary has them)."""
    A = analysis.effective_map(net)
    return {"effective_map": A.double().tolist(), "effective_map_error": analysis.map_error(A)}
