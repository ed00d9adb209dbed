# expect: batch-unsupported
# conventions:
import torch


def forward(x, W, b, M, c):
    u = W @ x + b
    h = torch.relu(u)
    v = M @ h + c
    return v
