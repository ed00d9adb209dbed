# expect:
# conventions:
import torch


def forward(x, W, b, M, c):
    u = x @ W.T + b          # (N, 3): the samples are rows
    h = torch.relu(u)
    return h @ M.T + c       # (N, 2)
