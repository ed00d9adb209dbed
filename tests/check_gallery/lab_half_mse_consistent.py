# expect:
# conventions: half-mse
# The half-MSE, and the gradients of that J: the loss's convention carries over to the gradients.
import torch


def loss(v, y):
    v, y = torch.atleast_2d(v), torch.atleast_2d(y)
    return 0.5 * ((v - y) ** 2).sum() / len(v)


def gradients(x, y, W, b, M, c, lam):
    X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
    U = X @ W.T + b
    H = torch.relu(U)
    dV = (H @ M.T + c - Y) / len(X)        # d(½‖v − y‖²)/dv = v − y
    dU = (dV @ M) * (U > 0)
    return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0), "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}
