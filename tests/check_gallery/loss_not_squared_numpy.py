# expect: mse-not-squared
# conventions:
import numpy as np


def loss(v, y):
    v, y = np.atleast_2d(v), np.atleast_2d(y)
    return np.abs(v - y).sum(axis=1).mean()
