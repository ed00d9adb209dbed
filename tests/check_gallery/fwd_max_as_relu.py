# expect:
# conventions:
# error: hint: torch.max(u, 0) is the largest entry along dimension 0
# torch.max(u, 0) taken for ReLU: it returns the largest entry and its index, and the next line fails.
import torch


def forward(x, W, b, M, c):
    u = W @ x + b
    h = torch.max(u, 0)
    return M @ h + c
