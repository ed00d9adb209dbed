# expect: step-rebinds
# conventions:
import torch


def step(params, x, y, lr, lam):
    W, b, M, c = params
    v = M @ torch.relu(W @ x + b) + c
    J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
    J.backward()
    with torch.no_grad():
        W = W - lr * W.grad
        b = b - lr * b.grad
        M = M - lr * M.grad
        c = c - lr * c.grad
    for p in params:
        p.grad = None
