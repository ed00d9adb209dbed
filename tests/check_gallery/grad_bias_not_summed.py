# expect: grad-bias-not-summed
# conventions:
import torch


def gradients(x, y, W, b, M, c, lam):
    X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
    U = X @ W.T + b
    H = torch.relu(U)
    V = H @ M.T + c
    dV = 2 * (V - Y) / len(X)
    dU = (dV @ M) * (U > 0)
    db, dc = dU.squeeze(0), dV.squeeze(0)  # the bias gradient is dU
    return {"W": dU.T @ X + 2 * lam * W, "b": db, "M": dV.T @ H + 2 * lam * M, "c": dc}
