"""What the trained network computes, read off its weights.

If every hidden ReLU is active (u > 0) on every sample, each ReLU is the identity
there and the network is affine:  v = M (W x + b) + c = (M W) x + (M b + c).
So on the rotation data y = R x, a 2-3-2 network that fits it has M W = R (and
M b + c = 0).  This holds only while every ReLU stays active: a unit that is off
on some samples contributes a piecewise-linear kink instead, and then M W need
not equal R even when the fit is perfect.

Convention: column vectors.  A = W_L ⋯ W_2 W_1 maps a column x to A x (for
2-3-2: A = M W, of shape (2, 2)).  The code stores samples as rows, where the
same map reads Y = X Aᵀ.  The lab's "W*M" means this same matrix.
"""
import torch

from .datasets import R

CONVENTION = "A = M W (column convention: y ≈ A x; batch-first rows: Y = X Aᵀ)"


def effective_map(net):
    """A = W_L ⋯ W_2 W_1, shape (fan_out, fan_in): the linear map the network is when all ReLUs are on."""
    with torch.no_grad():
        A = net.weights[0]
        for W in net.weights[1:]:
            A = W @ A
        return A.detach().cpu()


def map_error(A, target=R):
    """max_ij |A_ij − target_ij|: how far the effective map is from the rotation R."""
    return (A.double() - target.double()).abs().max().item()


def relu_active_fraction(net, x):
    """For every hidden layer, the fraction of samples on which each unit's u > 0 (a list of (width,))."""
    with torch.inference_mode():
        us = net.hidden(x.to(net.device, net.dtype))
        return [(u > 0).double().mean(0).cpu() for u in us]


def dead_units(net, x, active=None):
    """How many hidden units are off (u ≤ 0) on every sample of x: they pass no gradient and never recover.
    active: relu_active_fraction(net, x), if already computed."""
    return sum(int((f == 0).sum()) for f in (active if active is not None else relu_active_fraction(net, x)))


def format_matrix(A, digits=5):
    rows = [" ".join(f"{a:+.{digits}f}" for a in row) for row in A.tolist()]
    return "\n".join(f"  [{r}]" for r in rows)


def named_units(active, which, n, most=8):
    """'layer 1 unit 9, ...' for the hidden units whose active fraction a passes which(a), at most `most`
    named; a unit on for some of the n samples says on how many it is off."""
    units = [(i + 1, j + 1, round((1 - a) * n))
             for i, f in enumerate(active) for j, a in enumerate(f.tolist()) if which(a)]
    named = [f"layer {i} unit {j}" + (f" off on {k} of {n} samples" if k < n else "") for i, j, k in units[:most]]
    return "; ".join(named) + (f" and {len(units) - most} more" if len(units) > most else "")


def dead_note(active, n):
    """A plain-words line on the dead units, off on all n samples (active: relu_active_fraction's list)."""
    dead = dead_units(None, None, active)
    return (f"note: {dead} dead unit{'s' if dead > 1 else ''}, off on all {n} training samples "
            f"({named_units(active, lambda a: a == 0, n)}): they pass no gradient, so they never learn, "
            "and add nothing to the outputs")


def report_map(net, x, target=R, active=None):
    """A readable account of the effective map next to the target, with the convention and ReLU activity.
    Units off on part of the data are named here (there the network bends, so A = M W holds only where
    all are on); dead units, off everywhere, get their own note (dead_note).  active:
    relu_active_fraction(net, x), if already computed."""
    A = effective_map(net)
    active = active if active is not None else relu_active_fraction(net, x)
    lines = [f"effective map {CONVENTION}:", format_matrix(A),
             "target R (rotation by +90°):", format_matrix(target),
             f"max |A − R| = {map_error(A, target):.2e}",
             "ReLU active fraction per hidden unit: " + "; ".join(
                 " ".join(f"{v:.3f}" for v in f.tolist()) for f in active)]
    if any(bool(((f > 0) & (f < 1)).any()) for f in active):
        lines.append(f"note: ReLUs off on part of the data ({named_units(active, lambda a: 0 < a < 1, x.shape[0])}): "
                     "there the network is not linear, so A = M W describes it only where every ReLU is on")
    if any(bool((f == 0).any()) for f in active):
        lines.append("note: a dead unit's weights still count in A = M W, though the network does not use them, "
                     "until λ > 0 shrinks them away")
    return "\n".join(lines)
