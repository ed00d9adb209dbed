# expect:
# conventions: mse-mean-over-outputs, half-mse
import torch


def loss(v, y):
    return 0.5 * ((v - y) ** 2).mean()
