# expect: no-bias
# conventions:
import numpy as np


def forward(x, W, b, M, c):
    h = np.maximum(0, x @ W.T)      # hidden layer
    return h @ M.T + c
