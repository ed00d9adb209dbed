# expect: mse-sum-not-mean
# conventions:
import torch


def loss(v, y):
    return torch.sum((v - y) ** 2)
