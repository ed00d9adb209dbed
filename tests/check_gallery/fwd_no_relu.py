# expect: no-relu
# conventions:
import torch


def forward(x, W, b, M, c):
    u = x @ W.T + b
    h = u                 # TODO activation
    return h @ M.T + c
