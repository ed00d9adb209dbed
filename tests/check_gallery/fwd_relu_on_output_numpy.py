# expect: relu-on-output
# conventions:
import numpy as np


def relu(z):
    return np.maximum(z, 0)


def forward(x, W, b, M, c):
    h = relu(x @ W.T + b)
    return relu(h @ M.T + c)
