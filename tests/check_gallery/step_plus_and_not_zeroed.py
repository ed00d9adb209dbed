# expect: step-plus-sign, step-grads-not-zeroed
# conventions:
import torch


def step(params, x, y, lr, lam):
    W, b, M, c = params
    h = torch.relu(W @ x + b)
    v = M @ h + c
    loss = torch.sum((v - y) ** 2)
    J = loss + lam * (torch.sum(W ** 2) + torch.sum(M ** 2))
    J.backward()
    with torch.no_grad():
        for p in params:
            p.add_(lr * p.grad)
