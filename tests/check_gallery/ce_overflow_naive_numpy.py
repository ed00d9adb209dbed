# expect: ce-overflow
# conventions:
# says: large logits
# The softmax written out, without subtracting the largest logit first: right for small logits, NaN at 1000.
import numpy as np


def cross_entropy(v, y):
    v = np.atleast_2d(v)
    y = np.atleast_1d(y)
    p = np.exp(v) / np.exp(v).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))
