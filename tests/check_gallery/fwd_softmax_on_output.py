# expect: softmax-on-output
# conventions:
import torch


def forward(x, W, b, M, c):
    h = torch.relu(x @ W.T + b)
    v = h @ M.T + c
    return torch.softmax(v, dim=-1)
