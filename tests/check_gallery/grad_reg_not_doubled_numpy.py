# expect: grad-reg-not-doubled
# conventions:
import numpy as np


def gradients(x, y, W, b, M, c, lam):
    X, Y = np.atleast_2d(x), np.atleast_2d(y)
    U = X @ W.T + b
    H = np.maximum(U, 0)
    dV = 2 * (H @ M.T + c - Y) / len(X)
    dU = (dV @ M) * (U > 0)
    return {"W": dU.T @ X + lam * W, "b": dU.sum(axis=0), "M": dV.T @ H + lam * M, "c": dV.sum(axis=0)}
