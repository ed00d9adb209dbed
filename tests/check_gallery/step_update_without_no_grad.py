# expect:
# conventions:
# error: hint: update the parameters inside `with torch.no_grad():`
# The update written on the leaf tensors outside torch.no_grad(): torch refuses the in-place change.
import torch


def step(params, x, y, lr, lam):
    W, b, M, c = params
    v = M @ torch.relu(W @ x + b) + c
    J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
    J.backward()
    for p in params:
        p -= lr * p.grad
        p.grad.zero_()
