"""Backpropagation by hand: docs/derivation.md run as code, without autograd.

    forward:   v = layers(x), J = L(v, y) + λ Σ‖W_i‖²_F     each op keeps what its backward needs
    backward:  g = ∂J/∂v, then g ← op.backward(g) for each op from the last to the first
               (each Linear also sets dW = dUᵀ X and db = Σ_rows dU; the first skips ∂J/∂x, which
               nothing needs), and ∂J/∂W_i gains 2λ W_i
    update:    p ← p − lr · ∂J/∂p  (sgd.update, the step every engine takes)

`gradients(net, x, y)` returns J and every ∂J/∂p; `gradcheck` holds them against autograd and
against central finite differences.  baremlp.engines.manual trains with them
(`train(..., engine="manual")`): the eager loop's steps, with no graph built, so a per-sample
step costs a fraction of autograd's.
"""
import torch

from . import ops
from .errors import UsageError, check_data, check_fit, number
from .model import build_layers, forward, pre_activations
from .ops import make_loss

TOLERANCE = {torch.float32: 1e-4, torch.float64: 1e-6}  # gradcheck: largest relative error that agrees


def backward(layers, objective):
    """[∂J/∂W_1, ∂J/∂b_1, ..., ∂J/∂W_L, ∂J/∂b_L] after `objective` ran on the output of `layers`."""
    g, penalty = objective.backward()  # ∂J/∂v (N, K); [2λ W_i] from J's λ term (empty when λ is off)
    for layer in reversed(layers[1:]):
        g = layer.backward(g)  # ∂J/∂(the op's input): ReLU masks it, Linear sets its dW and db
    layers[0].backward(g, input_grad=False)  # dW and db only: the data x needs no gradient
    grads = []
    for i, linear in enumerate(layers[0::2]):
        dW = (linear.dW + penalty[i]) if penalty else linear.dW  # ∂J/∂W_i = ∂L/∂W_i + 2λ W_i (§2.8)
        grads += [dW, linear.db]
    return grads


def step(layers, x, y, objective, lam):
    """(J, v, the gradients of backward()) on the batch x (N, fan_in), y: forward, then backward."""
    v = forward(layers, x)  # (N, K)
    J = objective(v, y, [linear.W for linear in layers[0::2]], lam)
    return J, v, backward(layers, objective)


def check_loss(loss_fn):
    if not callable(getattr(loss_fn, "backward", None)):
        raise UsageError(f"loss {loss_fn!r} has no backward(dL) method: the manual engine needs mse, "
                         "cross-entropy or a loss object with one; use engine 'eager' for this loss")


def gradients(net, x, y, *, loss="mse", reg=0.0):
    """(J, grads) on the batch x: (N, fan_in), y: (N, K) targets or (N,) class indices.

    J = L + λ Σ‖W_i‖²_F is a 0-dim tensor; grads[k] = ∂J/∂net.parameters[k] (W_1, b_1, W_2, ...),
    each shaped like its parameter.  No autograd: it works under torch.inference_mode() and on
    parameters without requires_grad."""
    number("reg", reg, low=0)
    loss_fn = make_loss(loss)
    check_loss(loss_fn)
    x, y = check_data(net, x, y)
    with torch.no_grad():  # parameters that require grad would otherwise record a graph nobody uses
        J, _, grads = step(build_layers(net.parameters), x, y, ops.Objective(loss_fn), reg)
    return J, grads


def kept_samples(params, x, samples, margin, scan=4096):
    """Indices of the first `samples` rows of x (among the first `scan`) whose every hidden
    pre-activation has |u| ≥ margin: there ReLU is smooth and finite differences are valid."""
    far = torch.ones(min(scan, x.shape[0]), dtype=torch.bool, device=x.device)
    for u in pre_activations(build_layers(params), x[:scan]):
        far &= (u.abs() >= margin).all(1)
    return far.nonzero().flatten()[:samples]


def gradcheck(net, x, y, *, loss="mse", reg=0.0, samples=32, probes=20, margin=1e-3, eps=1e-6, seed=0):
    """Holds gradients() against autograd (in the network's dtype), and autograd against central finite
    differences (J(p + ε) − J(p − ε)) / 2ε in float64, on the first `samples` samples kept off the
    ReLU kink (every |u| ≥ margin), probing up to `probes` entries of each parameter (seeded).

    A central difference is only as exact as J itself: each of the L layers and the loss round J in
    float64 by about an ulp, so the two values differ from the true ones by up to (L + 1)·eps·|J| and
    the difference quotient by up to fd_error = (L + 1)·eps·|J| / ε (its truncation, ε²·J‴/6, is far
    smaller off the kink).  A row agrees when |manual − autograd| ≤ tol·max|∂J/∂p| and
    |autograd − fd| ≤ tol·max|∂J/∂p| + fd_error; where fd_error > tol·max|∂J/∂p| (a huge J, as deep
    nets at a large init_scale have), the finite differences cannot confirm the row to the tolerance
    (fd_coarse) and it rests on manual against autograd.

    Returns {"samples", "margin", "eps", "tolerance", "J", "fd_error", "ok", "rows"}; one row per
    parameter: name, shape, manual_vs_autograd and autograd_vs_fd (max |difference|), rel_error (the
    larger of the two over the parameter's max |∂J/∂p|), probed (entries differenced), fd_coarse and ok."""
    loss_fn = make_loss(loss)
    check_loss(loss_fn)
    number("reg", reg, low=0)
    for name, value in (("samples", samples), ("probes", probes)):
        number(name, value, low=1, whole=True)
    check_fit(loss, y)  # train()'s checks, in its order: a loss that cannot fit y is named as such
    x, y = check_data(net, x, y)
    f64 = [p.detach().to(torch.float64, copy=True) for p in net.parameters]  # probed in place below
    with torch.no_grad():
        idx = kept_samples(f64, x.double(), samples, margin)
    if idx.numel() == 0:
        raise UsageError(f"no sample has every hidden |u| ≥ {margin:g}: finite differences would straddle a ReLU kink")
    x, y = x[idx], y[idx]
    J, manual = gradients(net, x, y, loss=loss_fn, reg=reg)
    if not torch.isfinite(J):
        raise UsageError(f"J is {J.item()} at these weights in {net.dtype}: the network's outputs overflow, so no "
                         "gradient can be checked; expected a smaller init_scale (--init-scale) or dtype float64 "
                         "(--dtype float64)")

    def autograd(params, xb, yb):
        params = [p.detach().clone().requires_grad_() for p in params]
        J = ops.objective(loss_fn, forward(build_layers(params), xb), yb, params[0::2], reg)
        return torch.autograd.grad(J, params)

    auto = autograd(net.parameters, x, y)
    x64, y64 = x.double(), y.double() if y.dtype.is_floating_point else y
    auto64 = autograd(f64, x64, y64)

    def J64():
        return ops.objective(loss_fn, forward(build_layers(f64), x64), y64, f64[0::2], reg)

    with torch.no_grad():
        J = J64().item()
    fd_error = (len(net.weights) + 1) * torch.finfo(torch.float64).eps * abs(J) / eps
    tol, rows, g = TOLERANCE[net.dtype], [], torch.Generator().manual_seed(seed)
    names = [f"{kind}{i}" for i in range(len(net.weights)) for kind in "Wb"]  # as in checkpoints
    for name, p, m, a, a64 in zip(names, f64, manual, auto, auto64):
        n = p.numel()
        entries = torch.arange(n) if n <= probes else torch.randperm(n, generator=g)[:probes]
        with torch.no_grad():
            fd = central_differences(J64, p, entries.tolist(), eps)
        vs_auto = (m - a).abs().max().item()
        vs_fd = (a64.view(-1)[entries.to(p.device)] - fd).abs().max().item()
        coarse = fd_error > tol * a64.abs().max().item()
        ok = relative(vs_auto, a) <= tol and relative(max(vs_fd - fd_error, 0.0), a64) <= tol
        rows.append({"name": name, "shape": tuple(p.shape), "manual_vs_autograd": vs_auto, "autograd_vs_fd": vs_fd,
                     "rel_error": max(relative(vs_auto, a), relative(vs_fd, a64)), "probed": f"{len(entries)}/{n}",
                     "fd_coarse": coarse, "ok": ok})
    return {"samples": idx.numel(), "margin": margin, "eps": eps, "tolerance": tol, "J": J, "fd_error": fd_error,
            "ok": all(r["ok"] for r in rows), "rows": rows}


def central_differences(J, p, entries, eps):
    """(J(p + ε e_i) − J(p − ε e_i)) / 2ε for each flat index i in entries: p is moved in place and put back."""
    flat, fd = p.view(-1), []
    for i in entries:
        old = flat[i].item()
        flat[i] = old + eps
        plus = J()
        flat[i] = old - eps
        fd.append((plus - J()) / (2 * eps))
        flat[i] = old
    return torch.stack(fd)


def relative(difference, grad):
    """|difference| over the largest |entry| of the gradient (0 over 0 is agreement)."""
    scale = grad.abs().max().item()
    return difference / scale if scale > 0 else (0.0 if difference == 0 else float("inf"))
