# expect: reg-not-squared, reg-only-first-layer
# conventions:
import numpy as np


def regularization(W, M):
    return np.linalg.norm(W)
