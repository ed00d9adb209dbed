"""What baremlp train notes about a run, in its words, for the page's status line: unscaled data and
the batch clamp before the run, dead units and weights grown past about 1e6 after it."""
import torch

from ..bookkeeping import unscaled

HUGE_WEIGHT = 1e6  # beyond this a weight says that the steps were far too large


def before(s, data):
    """The notes the CLI prints as the run starts (runner.train_run's, sgd.batch_sizes' warning)."""
    out = []
    if big := unscaled(data.x, data.y):
        out.append(f"unscaled {big}: SGD steps on them are huge (dead ReLUs, divergence); "
                   "standardize=True (--standardize) scales them to mean 0, std 1")
    n = data.x.shape[0]
    if s.batch_size > n:
        out.append(f"batch_size {s.batch_size} is larger than the {n} samples: using {n}")
    return out


def after(net, lines):
    """The notes of the CLI's report (summarize's lines that begin with 'note: '), and one on weights past HUGE_WEIGHT."""
    out = [line[len("note: "):] for text in lines for line in text.splitlines() if line.startswith("note: ")]
    with torch.no_grad():
        largest = max(float(p.abs().max()) for p in net.weights)
    if largest > HUGE_WEIGHT:
        out.append(f"weights up to {largest:.3g}, beyond about 1e6: the steps were far too large; "
                   "a smaller lr (or λ > 0) keeps the weights small")
    return out
