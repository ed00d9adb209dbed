# expect: grad-relu-mask-missing
# conventions:
import torch


def gradients(x, y, W, b, M, c, lam):
    X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
    U = X @ W.T + b
    H = torch.relu(U)
    V = H @ M.T + c
    dV = 2 * (V - Y) / len(X)
    dU = dV @ M                            # back through the hidden layer
    return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0), "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}
