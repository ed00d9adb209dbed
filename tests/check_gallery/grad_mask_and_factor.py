# expect: grad-relu-mask-missing, grad-factor-2
# conventions:
import torch


def gradients(x, y, W, b, M, c, lam):
    X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
    H = torch.relu(X @ W.T + b)
    dV = (H @ M.T + c - Y) / len(X)
    dU = dV @ M
    return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0), "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}
