# expect: mse-sum-not-mean, mse-not-squared
# conventions:
import numpy as np


def loss(v, y):
    return np.sum(np.abs(v - y))
