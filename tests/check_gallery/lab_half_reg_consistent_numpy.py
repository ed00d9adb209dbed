# expect:
# conventions: half-reg
# The regularizer halved, ½(‖W‖² + ‖M‖²), and the gradients of that J: λW, not 2λW.
import numpy as np


def regularization(W, M):
    return 0.5 * (np.sum(W ** 2) + np.sum(M ** 2))


def gradients(x, y, W, b, M, c, lam):
    X, Y = np.atleast_2d(x), np.atleast_2d(y)
    dW, db, dM, dc = lam * W, np.zeros_like(b), lam * M, np.zeros_like(c)
    for xn, yn in zip(X, Y):
        u = W @ xn + b
        h = np.maximum(u, 0)
        dv = 2 * (M @ h + c - yn) / len(X)
        du = (M.T @ dv) * (u > 0)
        dW, db = dW + np.outer(du, xn), db + du
        dM, dc = dM + np.outer(dv, h), dc + dv
    return {"W": dW, "b": db, "M": dM, "c": dc}
