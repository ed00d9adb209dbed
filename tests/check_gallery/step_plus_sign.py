# expect: step-plus-sign
# conventions:
import torch


def step(params, x, y, lr, lam):
    W, b, M, c = params
    v = M @ torch.relu(W @ x + b) + c
    J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
    J.backward()
    with torch.no_grad():
        for p in params:
            p += lr * p.grad
            p.grad = None
