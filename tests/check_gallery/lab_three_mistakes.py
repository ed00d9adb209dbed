# expect: no-relu, mse-sum-not-mean, step-grads-not-zeroed
# conventions:
# One mistake in each of three functions: each check names its own.
import numpy as np
import torch


def forward(x, W, b, M, c):
    return (x @ W.T + b) @ M.T + c


def loss(v, y):
    return np.sum((np.asarray(v) - np.asarray(y)) ** 2)


def step(params, x, y, lr, lam):
    W, b, M, c = params
    v = M @ torch.relu(W @ x + b) + c
    J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
    J.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
