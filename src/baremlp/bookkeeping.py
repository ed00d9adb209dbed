"""What training keeps beside the loop: where it stands (TrainState, all a checkpoint holds to
continue), each epoch's record, and the check that stops it when J is no longer finite, with the
cause the data makes likely.  train.train and the population's stacked loop (studies.stacked) both
keep their books here, so a single run and a population's member say the same things.
"""
import math
from dataclasses import dataclass

import torch


class Diverged(RuntimeError):
    """The objective became NaN or infinite; `step` is the first update that produced it (1-based).
    The message names the likely cause (see likely_cause)."""

    def __init__(self, step, epoch, lr, cause=None):
        self.step, self.epoch = step, epoch
        super().__init__(f"training diverged: the objective became non-finite at step {step} (epoch {epoch}); "
                         f"{cause or f'try a smaller learning rate than {lr:g}'}")


UNSCALED = 10.0  # a column whose root mean square exceeds this is called unscaled: standardized data has 1
TINY_LR = 1e-8   # below this a smaller step cannot be the cure


def unscaled(x, y):
    """'inputs up to 480 and targets up to 2e+04' for those far from unit scale, or '' (class labels are not scaled)."""
    rms = lambda t: torch.linalg.vector_norm(t, dim=0).max() / math.sqrt(len(t))  # noqa: E731  (no copy of t)
    big = [f"{name} up to {t.abs().max().item():.3g}" for name, t in (("inputs", x), ("targets", y))
           if t.dtype.is_floating_point and not rms(t) <= UNSCALED]  # inf (overflow) counts
    return " and ".join(big)


ADVICE = {"cure": "standardize them (the CLI: --standardize)", "rate": "learning rate", "init": "init_scale"}  # train()'s words


def likely_cause(x, y, step, lr, advice=ADVICE):
    """What a divergence most likely comes from, as far as the data shows: inputs or targets far from
    unit scale (their squares overflow, or their gradients make every step huge), else the step size.
    advice: the cure for unscaled data and the names of the step size and the initial scale, in the
    caller's words (the CLI's by default; the scikit-learn estimators pass their own)."""
    big = unscaled(x, y)
    scale = f"unscaled {big}: {advice['cure']}" if big else ""
    if step == 1 or lr < TINY_LR:  # non-finite before any update, or despite a negligible one: not the step size
        return scale or f"this happened at {advice['rate']} {lr:g}, before the step size could matter: check the " \
                        f"data's magnitude and {advice['init']}"
    return f"{scale}, or try a smaller {advice['rate']} than {lr:g}" if big else None


def divergence(J, epoch, lr, x, y):
    """The Diverged error of an epoch (0-based) whose steps' J (steps,) are not all finite, or None."""
    bad = ~torch.isfinite(J)
    if not bad.any():
        return None
    step = epoch * len(J) + int(bad.nonzero()[0]) + 1  # steps before this epoch, then the first bad one
    return Diverged(step, epoch + 1, lr, likely_cause(x, y, step, lr))


def epoch_objective(losses, sizes, n):
    """The epoch's J: each step's J (..., steps) weighted by its batch's share of the n samples, so
    that a short last batch counts for its size; (...) is one value per member of a population."""
    return (losses * sizes).sum(-1).double() / n  # the sum in the network's dtype, the mean in float64


def epoch_record(epoch, J, lr, lam, accuracy=None, **more):
    """An epoch's record as train() returns it (epoch: 1-based, J its mean objective; more: other
    entries, those that are None left out); a run folder keeps J under "objective" only
    (runs.folder.stored), "loss" being its older name that callers may still read."""
    record = {"epoch": epoch, "objective": J, "loss": J, "lr": lr, "reg": lam, "accuracy": accuracy, **more}
    return {k: v for k, v in record.items() if v is not None}


@dataclass
class TrainState:
    """Where training stands: all that a checkpoint must hold to continue exactly.  train() starts
    at `epoch` and keeps the object current after every epoch, so passing it again resumes."""
    epoch: int = 0        # epochs finished
    velocity: list = None  # momentum buffers, one per parameter (None without momentum)
    best: tuple = None    # early stopping: (val_loss, epoch, state_dict) of the best epoch so far

    def improve(self, net, val_loss, patience):
        """Records this epoch if its validation loss is the best; True when patience has run out."""
        if self.best is None or val_loss < self.best[0]:
            self.best = (val_loss, self.epoch, net.state_dict())
        return self.epoch - self.best[1] >= patience
