# expect:
# conventions: batch-as-columns
import torch


def forward(x, W, b, M, c):
    u = W @ x + b.reshape(-1, 1)    # x is a column (2, 1), or a batch of columns (2, N)
    h = torch.relu(u)
    return M @ h + c.reshape(-1, 1)
