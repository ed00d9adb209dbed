# expect: step-grads-not-zeroed
# conventions:
import torch


def step(params, x, y, lr, lam):
    W, b, M, c = params
    v = M @ torch.relu(W @ x + b) + c
    J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
    J.backward()
    with torch.no_grad():
        W -= lr * W.grad
        b -= lr * b.grad
        M -= lr * M.grad
        c -= lr * c.grad
