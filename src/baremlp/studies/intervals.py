"""Intervals for what many runs say: the share of runs that did something, and a mean over seeds.

    wilson(k, n)          the Wilson score interval of a proportion k / n: the p for which
                          |k/n − p| ≤ z √(p (1 − p) / n).  Unlike k/n ± z √(p̂(1 − p̂)/n) it stays
                          inside [0, 1] and does not shrink to a point at k = 0 or k = n.
    bootstrap(values)     the percentile bootstrap interval of a statistic over seeds: resample the
                          seeds with replacement, recompute, take the 2.5 % and 97.5 % quantiles.
                          It assumes no distribution, which matters for losses over seeds: a few
                          runs with dead units sit far above the rest.
"""
import math

import torch

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile: two-sided 95 %


def wilson(k, n, z=Z95):
    """(low, high): the 95 % Wilson score interval of the proportion k / n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def mean(draws):
    """bootstrap's default statistic: the mean over the seeds, draws (resamples, n) -> (resamples,)."""
    return draws.mean(-1)


def bootstrap(values, statistic=mean, resamples=2000, seed=0):
    """(low, high): the 95 % percentile bootstrap interval of statistic over the seeds.

    values: (n,), or (n, m) with one row per seed, whose m values stay together (a paired
    comparison); statistic maps the resampled tables (resamples, n[, m]) to (resamples,).
    The fixed seed makes the interval reproducible."""
    v = torch.as_tensor(values, dtype=torch.float64)
    idx = torch.randint(v.shape[0], (resamples, v.shape[0]), generator=torch.Generator().manual_seed(seed))
    draws = statistic(v[idx])  # (resamples,)
    low, high = torch.quantile(draws, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return low, high
