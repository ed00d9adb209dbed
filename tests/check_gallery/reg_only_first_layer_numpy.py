# expect: reg-only-first-layer
# conventions:
import numpy as np


def regularization(W, M):
    return np.sum(W ** 2)
