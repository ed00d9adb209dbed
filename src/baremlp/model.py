"""The multi-layer perceptron: Linear and ReLU repeated, a Linear at the end.

For sizes [2, 3, 2] (the lab's network), with x a column:
    u = W x + b      W: (3, 2), b: (3,)
    h = ReLU(u)
    v = M h + c      M: (2, 3), c: (2,)
so weights == [W, M] and biases == [b, c].  v are the raw outputs (logits for
classification); softmax is applied by the loss or by `predict_proba`.
"""
import math

import torch

from .errors import UsageError, check_network
from .ops import Linear, ReLU, Softmax

INITS = ("normal", "uniform", "he")


def resolve_device(device=None):
    """'auto' or None -> CUDA when present, else the CPU; anything else as given."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise UsageError(f"device {device!r} invalid: expected auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {str(device)!r} asked for, but CUDA is not available here; use 'cpu' or 'auto'")
    return device


def build_layers(params):
    """The network's ops for params = [W_1, b_1, ..., W_L, b_L]: Linear, ReLU, ..., Linear.
    Every engine builds its network here, so all of them compute the same function."""
    layers = []
    for W, b in zip(params[0::2], params[1::2]):
        layers += [Linear(W, b), ReLU()]
    return layers[:-1]  # no ReLU after the output layer


def forward(layers, x):
    """v = layers[-1](… layers[0](x)): x (N, fan_in) -> v (N, fan_out)."""
    for layer in layers:
        x = layer(x)
    return x


def pre_activations(layers, x):
    """The u = W h + b of every hidden layer, each (N, width): where each ReLU is on or off."""
    us = []
    for layer in layers[:-1]:
        x = layer(x)
        if isinstance(layer, Linear):
            us.append(x)
    return us


class MLP:
    """A network of Linear + ReLU layers and a final Linear, parameters as plain leaf tensors.

    sizes: [fan_in, hidden..., fan_out], e.g. [2, 3, 2].
    init: "normal" (N(0, 1) · init_scale), "uniform" (U(−1, 1) · init_scale) or
          "he" (N(0, 1) · √(2 / fan_in), Kaiming's scale for ReLU networks; init_scale unused).
    Biases start at zero.  seed makes the initial weights reproducible.
    """

    def __init__(self, sizes, *, seed=None, init="normal", init_scale=0.1, device=None, dtype=torch.float32):
        sizes = check_network(sizes, init, init_scale, INITS)
        self.sizes, self.init, self.init_scale = sizes, init, init_scale
        device = resolve_device(device)
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            # drawn on the CPU in float64 so a seed gives the same network on every device and dtype
            if init == "uniform":
                W = (torch.rand(fan_out, fan_in, generator=g, dtype=torch.float64) * 2 - 1) * init_scale
            else:
                scale = math.sqrt(2.0 / fan_in) if init == "he" else init_scale
                W = torch.randn(fan_out, fan_in, generator=g, dtype=torch.float64) * scale
            self.weights.append(W.to(device, dtype).requires_grad_())
            self.biases.append(torch.zeros(fan_out, device=device, dtype=dtype, requires_grad=True))

    @property
    def parameters(self):
        """[W_1, b_1, W_2, b_2, ...]: every leaf tensor that SGD updates."""
        return [t for pair in zip(self.weights, self.biases) for t in pair]

    @property
    def device(self):
        return self.weights[0].device

    @property
    def dtype(self):
        return self.weights[0].dtype

    def __call__(self, x):
        """x: (N, fan_in) -> v: (N, fan_out).  The ops are made anew for each call: what they keep
        for a backward (their inputs) is freed with them, not held until the next call."""
        return forward(build_layers(self.parameters), x)

    def hidden(self, x):
        """The pre-activations u of every hidden layer, each (N, width): to see which ReLUs fire."""
        return pre_activations(build_layers(self.parameters), x)

    def predict_proba(self, x):
        """p = softmax(v): (N, fan_out) class probabilities."""
        return Softmax()(self(x))

    def state_dict(self):
        """{'W0', 'b0', 'W1', ...}: detached copies, for checkpoints."""
        state = {}
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            state[f"W{i}"], state[f"b{i}"] = W.detach().clone(), b.detach().clone()
        return state

    def load_state_dict(self, state):
        """Copies tensors named as by state_dict into this network's parameters, in place."""
        with torch.no_grad():
            for i, (W, b) in enumerate(zip(self.weights, self.biases)):
                for name, p in ((f"W{i}", W), (f"b{i}", b)):
                    t = state.get(name)
                    if t is None or tuple(t.shape) != tuple(p.shape):
                        got = None if t is None else tuple(t.shape)
                        raise UsageError(f"parameter {name}: expected shape {tuple(p.shape)}, found {got}")
                    p.copy_(t)

    def __repr__(self):
        return f"MLP({self.sizes}, init={self.init!r}, device={str(self.device)!r}, dtype={self.dtype})"
