# expect:
# conventions: per-sample-gradients
import torch


def gradients(x, y, W, b, M, c, lam):
    u = W @ x + b
    h = torch.relu(u)
    v = M @ h + c
    delta_v = 2 * (v - y)
    dc = delta_v
    dM = torch.outer(delta_v, h) + 2 * lam * M
    delta_u = (M.T @ delta_v) * (u > 0)
    db = delta_u
    dW = torch.outer(delta_u, x) + 2 * lam * W
    return {"W": dW, "b": db, "M": dM, "c": dc}
