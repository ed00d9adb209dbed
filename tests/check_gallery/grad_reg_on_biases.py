# expect: reg-includes-biases
# conventions:
import torch


def gradients(x, y, W, b, M, c, lam):
    X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
    U = X @ W.T + b
    H = torch.relu(U)
    dV = 2 * (H @ M.T + c - Y) / len(X)
    dU = (dV @ M) * (U > 0)
    return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0) + 2 * lam * b,
            "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0) + 2 * lam * c}
