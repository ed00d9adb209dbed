# expect: bias-twice, batch-unsupported
# conventions:
import torch


def forward(x, W, b, M, c):
    u = torch.zeros(3, dtype=x.dtype)
    for i in range(3):
        for j in range(2):
            u[i] += W[i, j] * x[j]
        u[i] += b[i]
    h = torch.relu(u + b)
    v = torch.zeros(2, dtype=x.dtype)
    for k in range(2):
        for i in range(3):
            v[k] += M[k, i] * h[i]
        v[k] += c[k]
    return v
