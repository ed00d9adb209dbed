# expect:
# conventions:
# refused: returned a complex Tensor
# A complex output is refused (its imaginary part must not be dropped without a word).
import torch


def forward(x, W, b, M, c):
    v = torch.relu(x @ W.T + b) @ M.T + c
    return v * (1 + 0j)
