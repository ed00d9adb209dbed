# expect: grad-transposed
# conventions:
import torch


def gradients(x, y, W, b, M, c, lam):
    X, Y = x.reshape(-1, 2), y.reshape(-1, 2)
    U = X @ W.T + b
    H = torch.relu(U)
    V = H @ M.T + c
    dV = 2 * (V - Y) / len(X)
    dU = (dV @ M) * (U > 0)
    dW = X.T @ dU + 2 * lam * W.T         # (2, 3)
    dM = dV.T @ H + 2 * lam * M
    return {"W": dW, "b": dU.sum(0), "M": dM, "c": dV.sum(0)}
