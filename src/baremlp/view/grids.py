"""What the page draws of a network, computed in the training's thread under inference_mode: the
function or decision regions over the input plane, each hidden unit's ReLU activity there, the weights
for the drawing of the network, the effective map.  Pictures travel as base64 bytes (a byte per cell,
a bit per cell for ReLU activity), so that a frame stays a few kilobytes at 20 frames a second.
"""
import base64

import numpy as np
import torch

from .. import analysis
from ..model import build_layers
from ..ops import ReLU

GRID = 48        # cells per side of the input plane
MAX_UNITS = 16   # hidden units drawn per layer (the network and the ReLU maps)
MAX_POINTS = 400  # training points drawn over the plane


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


class Plane:
    """The input plane of data with 2 inputs: its bounds (the training inputs' range and a margin),
    the GRID × GRID cell centres (row 0 at the top, the largest x₂) and the training points drawn."""

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


def plane_frame(net, plane, classes):
    """The network over the plane, in one forward pass: "function" (for classes the predicted class and its
    probability per cell; for regression each output per cell as bytes over its own range [low, high])
    and "maps" (where each hidden unit is on: bits, a row of GRID cells after another, at most MAX_UNITS
    a layer)."""
    with torch.inference_mode():
        h, maps = plane.points, []
        for layer in build_layers(net.parameters):  # the network's own ops, the ReLUs' u kept on the way
            h = layer(h)
            if isinstance(layer, ReLU):
                maps.append(b64(np.packbits((layer.u[:, :MAX_UNITS] > 0).T.cpu().numpy(), axis=1)))
        v = h.double().cpu().numpy()  # (GRID², outputs)
    if classes:
        e = np.exp(v - v.max(1, keepdims=True))  # softmax for the picture only; training never calls it
        p = e / e.sum(1, keepdims=True)
        function = {"kind": "classes", "class": b64(p.argmax(1).astype(np.uint8)),
                    "confidence": b64(np.round(p.max(1) * 255).astype(np.uint8))}
    else:
        lo, hi = v.min(0), v.max(0)
        scaled = np.clip(np.round((v - lo) / np.maximum(hi - lo, 1e-12) * 255), 0, 255).astype(np.uint8)
        function = {"kind": "values", "outputs": [{"low": float(lo[k]), "high": float(hi[k]), "bytes": b64(scaled[:, k])}
                                                  for k in range(v.shape[1])]}
    return function, maps


def active_fraction(net, x):
    """The share of training samples each hidden unit is on for (at most MAX_UNITS a layer)."""
    return [f[:MAX_UNITS].tolist() for f in analysis.relu_active_fraction(net, x)]


def weights_frame(net):
    """The weight matrices (at most MAX_UNITS units a layer) and biases, rounded, for the network's drawing."""
    with torch.inference_mode():
        layers = []
        for W, b in zip(net.weights, net.biases):
            layers.append({"W": W[:MAX_UNITS, :MAX_UNITS].double().cpu().numpy().round(5).tolist(),
                           "b": b[:MAX_UNITS].double().cpu().numpy().round(5).tolist()})
    return {"sizes": net.sizes, "layers": layers}


def map_frame(net):
    """M W next to R and max |M W − R| (analysis.effective_map, as the summary has them)."""
    A = analysis.effective_map(net)
    return {"effective_map": A.double().tolist(), "effective_map_error": analysis.map_error(A)}
