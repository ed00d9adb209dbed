# expect: ce-overflow
# conventions:
# The log of a softmax: right until a class's probability rounds to 0 (logit 800 below), then infinite.
import torch


def cross_entropy(v, y):
    p = torch.softmax(torch.atleast_2d(v), dim=1)
    return -torch.log(p[torch.arange(len(p)), torch.atleast_1d(y)]).mean()
