"""The models of check.gradients: the lab's gradient of one parameter with catalogued mistakes applied.

For each case the reference is split into pieces (derivation.md §3, batch form, rows are samples):

    δ_V = 2 (V − Y) / N      (N, 2)          data terms:  ∂L/∂W = δ_Uᵀ X,  ∂L/∂M = δ_Vᵀ H
    δ_U = (δ_V M) ⊙ 1[U > 0] (N, 3)                       ∂L/∂b = Σ_n δ_U,n,  ∂L/∂c = Σ_n δ_V,n

and a model of ∂J/∂p is  a · (data term, masked or not, summed or not) + r λ p  (transposed or not):
a ∈ ±{1, 2, ½} names grad-sign and grad-factor-2, r ∈ {2, 1, 0} grad-reg-not-doubled and
grad-missing-reg (for a bias, r ≠ 0 is reg-includes-biases), the mask grad-relu-mask-missing, the
transpose grad-transposed, a bias gradient not summed (its mean, or one row per sample)
grad-bias-not-summed.
"""
import itertools

import torch

from .diagnose import Model, pick

NAMES = ("W", "b", "M", "c")


def autograd(x, y, W, b, M, c, lam):
    """The lab's ∂J/∂p by autograd, the check's reference: {"W": (3, 2), "b": (3,), "M": (2, 3), "c": (2,)}."""
    params = [p.detach().clone().requires_grad_() for p in (W, b, M, c)]
    X, Y = x.reshape(-1, 2), y.reshape(-1, 2)
    V = torch.relu(X @ params[0].T + params[1]) @ params[2].T + params[3]
    J = ((V - Y) ** 2).sum() / len(X) + lam * ((params[0] ** 2).sum() + (params[2] ** 2).sum())
    return dict(zip(NAMES, torch.autograd.grad(J, params)))


def parts(x, y, W, b, M, c, lam):
    """The pieces the models combine: per parameter its data term (masked and not), per-sample rows for
    the biases, the parameter itself (for the λ term)."""
    X, Y = x.reshape(-1, 2), y.reshape(-1, 2)
    U = X @ W.T + b
    H = torch.relu(U)
    dV = 2 * (H @ M.T + c - Y) / len(X)           # (N, 2)
    dH = dV @ M                                    # (N, 3)
    return {"W": {True: (dH * (U > 0)).T @ X, False: dH.T @ X}, "b": {True: dH * (U > 0), False: dH},
            "M": {True: dV.T @ H, False: dV.T @ H}, "c": {True: dV, False: dV}, "single": x.dim() == 1,
            "lam": lam, "params": {"W": W, "b": b, "M": M, "c": c}}


def models(name, data_base=1.0, reg_base=2.0):
    """Models of one parameter's gradient; data_base, reg_base: the conventions' factors on the data and λ terms."""
    weight = name in ("W", "M")
    regs = (reg_base, reg_base / 2, 0.0) if weight else (0.0, 2.0, 1.0)
    for scale, sign_data, r, sign_all, mask, shape in itertools.product(
            (1.0, 2.0, 0.5), (1, -1), regs, (1, -1), (True, False) if name in ("W", "b") else (True,),
            ("same", "transposed") if weight else ("sum", "mean", "rows")):
        codes = pick({"grad-factor-2": scale != 1, "grad-sign": sign_data < 0 or sign_all < 0,
                      "grad-missing-reg": weight and r == 0, "grad-reg-not-doubled": weight and r == reg_base / 2,
                      "reg-includes-biases": not weight and r != 0, "grad-relu-mask-missing": not mask,
                      "grad-transposed": shape == "transposed", "grad-bias-not-summed": shape in ("mean", "rows")})
        a, rr = sign_all * sign_data * scale * data_base, sign_all * r

        def predict(case, a=a, rr=rr, mask=mask, shape=shape):
            k = case.parts
            data = k[name][mask]
            if not weight:  # rows (N, n): one per sample
                data = data.sum(0) if shape == "sum" else data.mean(0) if shape == "mean" else \
                    (data.reshape(-1) if k["single"] else data)
            g = a * data + rr * k["lam"] * k["params"][name]
            return g.T if shape == "transposed" else g
        detail = ", ".join(pick({"its sign flipped": sign_all < 0, "its data term negated": sign_data < 0,
                                 "its data term halved": scale == 0.5, "its data term doubled": scale == 2,
                                 "the mean over the samples": shape == "mean", "one row per sample": shape == "rows",
                                 f"its rows and columns swapped (shape {'(2, 3)' if name == 'W' else '(3, 2)'} "
                                 f"where {name} is {'(3, 2)' if name == 'W' else '(2, 3)'})": shape == "transposed"}))
        yield Model(frozenset(codes), (), predict, detail=detail)


def data_factors(conventions):
    """(data_base, reg_base): the factors on the data and λ terms that the loss's conventions give J."""
    data = (0.5 if "half-mse" in conventions else 1.0) * (0.5 if "mse-mean-over-outputs" in conventions else 1.0)
    return data, (1.0 if "half-reg" in conventions else 2.0)
