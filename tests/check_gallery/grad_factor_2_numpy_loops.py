# expect: grad-factor-2
# conventions:
import numpy as np


def gradients(x, y, W, b, M, c, lam):
    X, Y = np.atleast_2d(x), np.atleast_2d(y)
    N = len(X)
    dW, db = 2 * lam * W, np.zeros(3)
    dM, dc = 2 * lam * M, np.zeros(2)
    for n in range(N):
        u = W @ X[n] + b
        h = np.maximum(u, 0)
        v = M @ h + c
        dv = (v - Y[n]) / N                 # derivative of the squared error
        dM = dM + np.outer(dv, h)
        dc = dc + dv
        du = (M.T @ dv) * (u > 0)
        dW = dW + np.outer(du, X[n])
        db = db + du
    return {"W": dW, "b": db, "M": dM, "c": dc}
