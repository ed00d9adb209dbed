# expect:
# conventions: row-convention
import numpy as np


def gradients(x, y, W, b, M, c, lam):
    # rows: X (N, 2), W (2, 3), M (3, 2)
    X, Y = np.atleast_2d(x), np.atleast_2d(y)
    U = X @ W + b
    H = np.maximum(U, 0)
    dV = 2 * (H @ M + c - Y) / len(X)
    dU = (dV @ M.T) * (U > 0)
    return {"W": X.T @ dU + 2 * lam * W, "b": dU.sum(axis=0), "M": H.T @ dV + 2 * lam * M, "c": dV.sum(axis=0)}
