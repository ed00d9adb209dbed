# expect: step-no-update
# conventions:
import torch


def step(params, x, y, lr, lam):
    W, b, M, c = params
    v = M @ torch.relu(W @ x + b) + c
    J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
    for p in params:
        p.grad = None
    J.backward()
