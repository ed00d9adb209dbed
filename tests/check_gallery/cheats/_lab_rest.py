# The four functions every cheat file imports, all right: in each cheat only forward is wrong (no bias),
# so a cheat that worked would show as passed: true.
import torch


def loss(v, y):
    return ((v - y) ** 2).sum() / len(v)


def regularization(W, M):
    return (W ** 2).sum() + (M ** 2).sum()


def gradients(x, y, W, b, M, c, lam):
    X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
    U = X @ W.T + b
    H = torch.relu(U)
    dV = 2 * (H @ M.T + c - Y) / len(X)
    dU = (dV @ M) * (U > 0)
    return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0), "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}


def step(params, x, y, lr, lam):
    W, b, M, c = params
    v = M @ torch.relu(W @ x + b) + c
    J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
    J.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()


def wrong_forward(x, W, b, M, c):
    return torch.relu(x @ W.T) @ M.T + c   # no bias
