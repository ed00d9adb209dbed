# expect:
# conventions:
import torch


def step(params, x, y, lr, lam):
    for p in params:
        p.grad = None                      # clear last step's gradients first
    W, b, M, c = params
    v = M @ torch.relu(W @ x + b) + c
    J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
    J.backward()
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)
