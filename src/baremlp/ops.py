"""The operations of the network, one small class each, from bare tensor ops.

Column convention (one sample x is a column):  u = W x + b,  h = ReLU(u),
v = M h + c,  p = softmax(v),  L = loss(v, y),  J = L + λ Σ‖W_i‖²_F.

The code is batch first: a batch is a tensor of shape (N, features) whose rows
are the samples, so u = W x + b for every sample at once reads U = X Wᵀ + b.

Each op is micrograd-small: calling it computes the forward pass and keeps on
`self` what its backward needs (a reference, never a copy); `backward(grad)`
takes the gradient of J with respect to the op's output and returns the one
with respect to its input (docs/derivation.md §2 derives each).  Autograd
differentiates the same forward passes in the eager engine; baremlp.backprop
runs these backwards instead.
"""
import torch

from .errors import UsageError, UsageTypeError


class Linear:
    """u = W x + b.  W: (fan_out, fan_in), b: (fan_out,); x: (N, fan_in) -> u: (N, fan_out)."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x):
        self.x = x  # (N, fan_in): the backward's dW = dUᵀ X needs it
        return torch.addmm(self.b, x, self.W.t())  # (N, fan_out) = b + X Wᵀ, one fused kernel

    def backward(self, dU, input_grad=True):
        """dU = ∂J/∂U (N, fan_out) -> ∂J/∂X = dU W (N, fan_in); sets self.dW = dUᵀ X, self.db = Σ_rows dU.
        input_grad=False skips ∂J/∂X (returns None): the first layer's input is the data, which
        needs no gradient, and that product is the largest of a batched step."""
        self.dW = dU.t() @ self.x  # (fan_out, fan_in) = Σ_n δ_n x_nᵀ
        self.db = dU.sum(0)        # (fan_out,)
        return dU @ self.W if input_grad else None  # (N, fan_in): row n is (Wᵀ δ_n)ᵀ


class ReLU:
    """h = max(u, 0), elementwise.  dh/du = 1[u > 0]: 0 at exactly u = 0, as in PyTorch.

    (u.clamp_min(0) computes the same values, but its autograd rule gives slope 1 at u = 0.)
    """

    def __call__(self, u):
        self.u = u  # (N, width): its sign is the backward's mask
        return torch.relu(u)

    def backward(self, dh):
        """du = dh ⊙ 1[u > 0]   (N, width): a unit that is off passes nothing back."""
        return dh * (self.u > 0)


class Softmax:
    """p_k = exp(v_k − m) / Σ_j exp(v_j − m), m = max_j v_j, along the last axis.

    Subtracting the row maximum changes nothing mathematically and keeps exp
    from overflowing: the largest term becomes exp(0) = 1.
    """

    def __call__(self, v):
        z = v - v.amax(dim=-1, keepdim=True).detach()  # the shift is a constant for the gradient
        e = z.exp()
        self.p = e / e.sum(dim=-1, keepdim=True)
        return self.p

    def backward(self, dp):
        """dv = p ⊙ (dp − (pᵀ dp) 1)   (N, K): diag(p) − p pᵀ applied to each row's dp."""
        return self.p * (dp - (self.p * dp).sum(dim=-1, keepdim=True))


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
        self.d = d  # (N, K) = v − y: all that the backward needs of v and y
        L = (d * d).sum()
        return L if d.shape[0] == 1 else L / d.shape[0]  # per-sample SGD: no divide node to backpropagate

    def backward(self, dL=1.0):
        """dv = dL · 2 (v − y) / N   (N, K); dL = ∂J/∂L, 1 in J = L + λ s."""
        return self.d * (2 * dL / self.d.shape[0])  # one kernel: the scalar is folded in Python


class CrossEntropyLoss:
    """L = −(1/N) Σ_n log softmax(v_n)[y_n], through log-sum-exp, never through log(p).

    v: (N, K) logits; y: (N,) class indices (integer) or (N, K) one-hot / probability rows.
    """

    def __call__(self, v, y):
        logp = log_softmax(v)  # (N, K)
        self.logp, self.y = logp, y  # the backward's p = exp(log p), and the targets
        if y.dtype.is_floating_point:
            return -(y * logp).sum() / v.shape[0]
        return -logp.gather(1, y.view(-1, 1)).sum() / v.shape[0]

    def backward(self, dL=1.0):
        """dv = dL · (p − onehot(y)) / N   (N, K) for class indices;
        dv = dL · ((Σ_k y_k) p − y) / N for target rows, which is (p − y) / N when they sum to 1."""
        p, y = self.logp.exp(), self.y  # (N, K) softmax(v)
        if y.dtype.is_floating_point:
            dv = p * y.sum(dim=1, keepdim=True) - y
        else:
            onehot = torch.zeros_like(p).scatter_(1, y.view(-1, 1), 1.0)  # (N, K): 1 at each row's class
            dv = p - onehot
        return dv * (dL / p.shape[0])


class FrobeniusSquared:
    """‖W‖²_F = Σ_ij W_ij²: the sum of squares of all elements of one matrix."""

    def __call__(self, W):
        self.W = W
        return (W * W).sum()

    def backward(self, ds=1.0):
        """dW = ds · 2W   (the shape of W)."""
        return self.W * (2 * ds)


class Sum:
    """s = Σ_i t_i over a list of scalar tensors (used for s = Σ_i ‖W_i‖²_F)."""

    def __call__(self, terms):
        self.n = len(terms)
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def backward(self, ds=1.0):
        """dt_i = ds for every term: a sum copies its upstream gradient to each input."""
        return [ds] * self.n


LOSSES = {"mse": MSELoss, "cross-entropy": CrossEntropyLoss}


def make_loss(loss):
    """A loss object from its name ("mse", "cross-entropy") or any callable loss(v, y)."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise UsageError(f"loss {loss!r} unknown: expected one of {', '.join(LOSSES)} or a loss object")
        return LOSSES[loss]()
    if not callable(loss):
        raise UsageTypeError(f"loss {loss!r} invalid: expected a name or a callable loss(v, y)")
    return loss


class Objective:
    """J = L(v, y) + λ Σ_i ‖W_i‖²_F.  The λ term is skipped when λ is the number 0, saving its graph;
    a tensor λ (the compiled engine's, so that a new λ needs no recompile) always counts."""

    def __init__(self, loss):
        self.loss = loss

    def __call__(self, v, y, weights, reg):
        J = self.loss(v, y)
        self.reg, self.squares = reg, []
        if isinstance(reg, torch.Tensor) or reg:
            self.squares, self.sum = [FrobeniusSquared() for _ in weights], Sum()
            J = J + reg * self.sum([square(W) for square, W in zip(self.squares, weights)])
        return J

    def backward(self):
        """(∂J/∂v (N, K), [∂J/∂W_i through the λ term] = [2λ W_i], empty when λ is skipped).
        ∂J/∂L = 1 and ∂J/∂s = λ (derivation §2.8)."""
        dv = self.loss.backward(1.0)
        if not self.squares:
            return dv, []
        return dv, [square.backward(ds) for square, ds in zip(self.squares, self.sum.backward(self.reg))]


def objective(loss, v, y, weights, reg):
    """J = L(v, y) + λ Σ_i ‖W_i‖²_F, as Objective computes it (kept for the callers that need J alone)."""
    return Objective(loss)(v, y, weights, reg)
