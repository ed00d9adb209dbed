# expect:
# conventions: row-convention
import numpy as np


def forward(x, W, b, M, c):
    # x as a row, weights (fan_in, fan_out): x W + b
    h = np.maximum(x @ W + b, 0)
    return h @ M + c
