# expect: ce-not-negated
# conventions:
import numpy as np


def cross_entropy(v, y):
    v = np.atleast_2d(v)
    y = np.atleast_1d(y)
    m = v.max(axis=1, keepdims=True)
    logp = v - m - np.log(np.exp(v - m).sum(axis=1, keepdims=True))
    return np.mean(logp[np.arange(len(y)), y])
