# cheat: none, the control: a right forward with the same four functions passes
import torch
from _lab_rest import gradients, loss, regularization, step  # noqa: F401


def forward(x, W, b, M, c):
    return torch.relu(x @ W.T + b) @ M.T + c
