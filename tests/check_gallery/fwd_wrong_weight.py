# expect: wrong-weight
# conventions:
import torch


def forward(x, W, b, M, c):
    h = torch.relu(x @ M + b)     # x times the weights, then the bias
    return h @ M.T + c
