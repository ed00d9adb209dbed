"""What the page draws of a network, computed in the training's thread under inference_mode: the
function or decision regions over the input plane, each hidden unit's ReLU activity there, the weights
for the drawing of the network, the effective map.  Pictures travel as base64 bytes (a byte per cell,
a bit per cell for ReLU activity), so that a frame stays a few kilobytes at 20 frames a second.
"""
import base64

import numpy as np
import torch

from .. import analysis

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
        keep = torch.linspace(0, len(x) - 1, min(MAX_POINTS, len(x))).long()
        y = data.y[keep]
        self.samples = {"x": x[keep].double().tolist(),
                        "y": y.tolist() if not y.dtype.is_floating_point else y.double().tolist()}

    def describe(self):
        return {"grid": GRID, "bounds": self.bounds, "samples": self.samples}


def function_frame(net, plane, classes):
    """The network over the plane: for classes, the predicted class and its probability per cell; for
    regression, every output per cell as bytes over the output's own range [low, high]."""
    with torch.inference_mode():
        v = net(plane.points)  # (GRID², outputs)
        if classes:
            p = torch.softmax(v.double(), 1)  # for the picture only; training never calls this
            conf, cls = p.max(1)
            return {"kind": "classes", "class": b64(cls.to(torch.uint8).cpu().numpy()),
                    "confidence": b64((conf * 255).round().to(torch.uint8).cpu().numpy())}
        out = []
        for k in range(v.shape[1]):
            col = v[:, k].double()
            lo, hi = col.min().item(), col.max().item()
            scaled = ((col - lo) / max(hi - lo, 1e-12) * 255).round().clamp(0, 255).to(torch.uint8)
            out.append({"low": lo, "high": hi, "bytes": b64(scaled.cpu().numpy())})
        return {"kind": "values", "outputs": out}


def relu_frame(net, plane, x):
    """Where each hidden unit is on (u > 0) over the plane (bits, a row of GRID cells after another; at
    most MAX_UNITS a layer), and the share of training samples it is on for."""
    with torch.inference_mode():
        maps = [b64(np.packbits((u[:, :MAX_UNITS] > 0).T.cpu().numpy(), axis=1)) for u in net.hidden(plane.points)] \
            if plane else []
    active = [f[:MAX_UNITS].tolist() for f in analysis.relu_active_fraction(net, x)]
    return {"maps": maps, "active": active}


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
