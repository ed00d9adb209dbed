# expect: reg-not-squared
# conventions:
import torch


def regularization(W, M):
    return torch.norm(W) + torch.norm(M)
