"""The operations of the network, one small class each, from bare tensor ops.

Column convention (one sample x is a column):  u = W x + b,  h = ReLU(u),
v = M h + c,  p = softmax(v),  L = loss(v, y),  J = L + λ Σ‖W_i‖²_F.

The code is batch first: a batch is a tensor of shape (N, features) whose rows
are the samples, so u = W x + b for every sample at once reads U = X Wᵀ + b.
Only forward passes are written here; PyTorch autograd derives the backward
pass (docs/derivation.md writes it out by hand).
"""
import torch


class Linear:
    """u = W x + b.  W: (fan_out, fan_in), b: (fan_out,); x: (N, fan_in) -> u: (N, fan_out)."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x):
        return torch.addmm(self.b, x, self.W.t())  # (N, fan_out) = b + X Wᵀ, one fused kernel


class ReLU:
    """h = max(u, 0), elementwise.  dh/du = 1[u > 0]: 0 at exactly u = 0, as in PyTorch.

    (u.clamp_min(0) computes the same values, but its autograd rule gives slope 1 at u = 0.)
    """

    def __call__(self, u):
        return torch.relu(u)


class Softmax:
    """p_k = exp(v_k − m) / Σ_j exp(v_j − m), m = max_j v_j, along the last axis.

    Subtracting the row maximum changes nothing mathematically and keeps exp
    from overflowing: the largest term becomes exp(0) = 1.
    """

    def __call__(self, v):
        z = v - v.amax(dim=-1, keepdim=True).detach()  # the shift is a constant for the gradient
        e = z.exp()
        return e / e.sum(dim=-1, keepdim=True)


def log_softmax(v):
    """log p_k = v_k − m − log Σ_j exp(v_j − m): the stable log-sum-exp form.  v: (N, K)."""
    z = v - v.amax(dim=-1, keepdim=True).detach()
    return z - z.exp().sum(dim=-1, keepdim=True).log()


class MSELoss:
    """L = (1/N) Σ_n ‖v_n − y_n‖²: squared error summed over outputs, averaged over samples.

    v, y: (N, K) -> scalar.
    """

    def __call__(self, v, y):
        d = v - y
        L = (d * d).sum()
        return L if d.shape[0] == 1 else L / d.shape[0]  # per-sample SGD: no divide node to backpropagate


class CrossEntropyLoss:
    """L = −(1/N) Σ_n log softmax(v_n)[y_n], through log-sum-exp, never through log(p).

    v: (N, K) logits; y: (N,) class indices (integer) or (N, K) one-hot / probability rows.
    """

    def __call__(self, v, y):
        logp = log_softmax(v)  # (N, K)
        if y.dtype.is_floating_point:
            return -(y * logp).sum() / v.shape[0]
        return -logp.gather(1, y.view(-1, 1)).sum() / v.shape[0]


class FrobeniusSquared:
    """‖W‖²_F = Σ_ij W_ij²: the sum of squares of all elements of one matrix."""

    def __call__(self, W):
        return (W * W).sum()


class Sum:
    """s = Σ_i t_i over a list of scalar tensors (used for s = Σ_i ‖W_i‖²_F)."""

    def __call__(self, terms):
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total


LOSSES = {"mse": MSELoss, "cross-entropy": CrossEntropyLoss}


def objective(loss, v, y, weights, reg):
    """J = L(v, y) + λ Σ_i ‖W_i‖²_F.  The λ term is skipped when λ is the number 0, saving its graph;
    a tensor λ (the compiled engine's, so that a new λ needs no recompile) always counts."""
    J = loss(v, y)
    if isinstance(reg, torch.Tensor) or reg:
        square = FrobeniusSquared()
        J = J + reg * Sum()([square(W) for W in weights])
    return J
