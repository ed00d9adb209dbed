# expect: rmse-not-mse
# conventions: mse-mean-over-outputs
import torch


def loss(v, y):
    return torch.sqrt(torch.mean((v - y) ** 2))
