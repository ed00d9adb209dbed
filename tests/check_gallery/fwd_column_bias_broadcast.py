# expect: bias-broadcast
# conventions:
# The lab's column vectors taken literally: x becomes (2, 1), but b stays (3,), so W x + b is (3, 3).
import torch


def forward(x, W, b, M, c):
    x = x.reshape(2, 1)
    u = W @ x + b
    h = torch.relu(u)
    v = M @ h + c
    return v.reshape(-1)
