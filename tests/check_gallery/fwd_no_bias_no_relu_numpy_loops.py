# expect: no-bias, no-relu
# conventions:
import numpy as np


def forward(x, W, b, M, c):
    X = np.atleast_2d(x)
    V = np.zeros((len(X), 2))
    for n in range(len(X)):
        u = W.dot(X[n])
        V[n] = M.dot(u) + c
    return V if np.ndim(x) > 1 else V[0]
