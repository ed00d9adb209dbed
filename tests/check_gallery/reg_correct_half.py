# expect:
# conventions: half-reg
import torch


def regularization(W, M):
    return 0.5 * (torch.sum(W * W) + torch.sum(M * M))
