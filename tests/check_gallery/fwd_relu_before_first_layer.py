# expect: relu-before-first-layer
# conventions:
import torch


def forward(x, W, b, M, c):
    h = torch.relu(x) @ W.T + b
    return h @ M.T + c
