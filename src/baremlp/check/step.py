"""check.step(fn): fn(params, x, y, lr, lam) takes one SGD step in place on params = [W, b, M, c], the lab's
loop body (forward, J.backward(), the update, the gradients zeroed):

    J = ‖v − y‖² + λ (‖W‖²_F + ‖M‖²_F),   p ← p − lr ∂J/∂p for every p,   p.grad cleared

The checker calls it twice, on two samples, with fresh leaf tensors (requires_grad=True) that it keeps
and reads afterwards, as the lab's loop does.  Each call's move d = p_after − p_before is compared with
the true step −lr g (g by autograd at p_before): d = −α lr g names step-wrong-lr (α ≠ ±1) and
step-plus-sign (α < 0); a second move of −α lr (g₂ + g₁) names step-grads-not-zeroed; no move names
step-no-update, or step-rebinds when a tensor equal to the step's result was computed but never written
into the caller's tensor (seen by watching the tensors the call creates).
"""
import torch
from torch.overrides import TorchFunctionMode

from . import cases as C
from .calls import describe, one_line
from .catalogue import hint
from .report import Case, Report

NAMES = ("W", "b", "M", "c")
TOL = 1e-7  # relative, float64

# J's variants the update may follow: (data factor, λ-term factor, bias λ factor, codes, conventions, hint)
J_VARIANTS = [(1.0, 2.0, 0.0, [], [], ""), (0.5, 2.0, 0.0, [], ["half-mse"], ""), (1.0, 1.0, 0.0, [], ["half-reg"], ""),
              (0.5, 1.0, 0.0, [], ["half-mse", "half-reg"], ""), (1.0, 2.0, 2.0, ["reg-includes-biases"], [], ""),
              (1.0, 0.0, 0.0, [], [], "your J leaves out λ (‖W‖²_F + ‖M‖²_F): the step follows the loss alone")]


class Watch(TorchFunctionMode):
    """Keeps a copy of every tensor a torch function returns with one of the parameters' shapes."""

    def __init__(self, shapes):
        super().__init__()
        self.shapes, self.seen = set(shapes), []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if isinstance(out, torch.Tensor) and tuple(out.shape) in self.shapes and out.dtype.is_floating_point:
            self.seen.append(out.detach().clone())
        return out


def grad_J(params, x, y, lam, data=1.0, reg=2.0, bias_reg=0.0):
    """∂J/∂p at params (column convention, one sample) for J = data ‖v − y‖² + λ (reg/2) Σ‖W‖² + λ (bias_reg/2) Σ‖b‖²."""
    W, b, M, c = [p.detach().clone().requires_grad_() for p in params]
    v = M @ torch.relu(W @ x + b) + c
    J = data * ((v - y) ** 2).sum() + lam * (reg / 2 * ((W ** 2).sum() + (M ** 2).sum())
                                            + bias_reg / 2 * ((b ** 2).sum() + (c ** 2).sum()))
    return list(torch.autograd.grad(J, (W, b, M, c)))


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def fit(d, g):
    """α with d = −α lr g as closely as least squares allows, and whether it holds to TOL."""
    gg = (g * g).sum().item()
    if gg == 0:
        return 0.0, bool(d.abs().max() == 0)
    alpha = -(d * g).sum().item() / gg
    return alpha, (d + alpha * g).abs().max().item() <= TOL * max(1e-12, d.abs().max().item(), abs(alpha) * g.abs().max().item())


def calls(fn, net, samples, lr, lam, convention):
    """Runs fn twice on fresh leaves: (p0, p1, p2 or None, names replaced in the list, tensors seen in the
    first call, the second call's error) in the column convention.  The first call's error propagates."""
    T = (lambda t: t.T) if convention == "row" else (lambda t: t)
    frame = lambda name, t: T(t) if name in ("W", "M") else t  # noqa: E731
    params = [frame(n, net[n]).clone().requires_grad_() for n in NAMES]
    mine = list(params)  # the caller's own tensors, as the lab's loop holds them
    read = lambda: [frame(n, p.detach()).clone() for n, p in zip(NAMES, mine)]  # noqa: E731
    p0 = read()
    watch = Watch({tuple(p.shape) for p in params})
    (x1, y1), (x2, y2) = samples
    if hasattr(fn, "call_watched"):  # a submission in its own process (remote.Proxy): the watching is done there
        seen = [t.to(torch.float64) for t in fn.call_watched(watch.shapes, params, x1, y1, lr, lam)]
    else:
        with watch:
            fn(params, x1, y1, lr, lam)
        seen = watch.seen
    p1 = read()
    replaced = [n for n, a, b in zip(NAMES, params, mine) if a is not b]
    seen = [t.T if convention == "row" and t.dim() == 2 else t for t in seen]
    p2, error2 = None, ""
    if not replaced:
        try:
            fn(params, x2, y2, lr, lam)
            p2 = read()
        except Exception as e:  # the student's second call: reported, the first is still judged
            error2 = one_line(e) + hint(one_line(e))
    return p0, p1, p2, replaced, seen, error2


def rebound(p0, g, seen):
    """Whether some tensor the call made equals p0 moved along g (the update computed, never written back)."""
    return any(t.shape == p0.shape and (t - p0).abs().max() > 0 and
               abs(cos(t - p0, g)) > 1 - 1e-9 for t in seen)


def cos(a, b):
    na, nb = a.norm().item(), b.norm().item()
    return (a * b).sum().item() / (na * nb) if na and nb else 0.0


def judge(p0, p1, p2, replaced, seen, samples, lr, lam, variant):
    """The codes that explain the two moves under one J variant (a code with the parameters it concerns,
    or with the learning rate used, as a tuple); None when the moves do not follow that J's gradient."""
    data, reg, bias_reg = variant[:3]
    (x1, y1), (x2, y2) = samples
    g1 = grad_J(p0, x1, y1, lam, data, reg, bias_reg)
    d1 = [a - b for a, b in zip(p1, p0)]
    moved = [i for i, d in enumerate(d1) if d.abs().max() > 0]
    codes, still = [], {}
    for i, name in enumerate(NAMES):
        if (i not in moved and g1[i].abs().max() > 0) or name in replaced:  # a zero gradient rightly moves nothing
            code = "step-rebinds" if name in replaced or rebound(p0[i], g1[i], seen) else "step-no-update"
            still.setdefault(code, []).append(name)
    codes = [(code, names) for code, names in still.items()]
    if not moved:
        return codes
    alpha, ok = fit(flat([d1[i] for i in moved]), lr * flat([g1[i] for i in moved]))
    if not ok:
        return None
    if p2 is not None:
        g2 = grad_J(p1, x2, y2, lam, data, reg, bias_reg)
        d2 = flat([p2[i] - p1[i] for i in moved])
        fresh = fit(d2, lr * flat([g2[i] for i in moved]))
        summed = fit(d2, lr * flat([g2[i] + g1[i] for i in moved]))
        if fresh[1] and abs(fresh[0] - alpha) <= 1e-6 * abs(alpha):
            pass
        elif summed[1] and abs(summed[0] - alpha) <= 1e-6 * abs(alpha):
            codes.append("step-grads-not-zeroed")
        else:
            return None
    if alpha < 0:
        codes.append("step-plus-sign")
    if abs(abs(alpha) - 1) > 1e-6:
        codes.append(("step-wrong-lr", abs(alpha) * lr))
    return codes


def step(fn, conventions=()):
    """Report on fn(params, x, y, lr, lam): two calls, compared with two true SGD steps (module docstring)."""
    net, samples, lr, lam = C.step_cases()
    case_inputs = {"x": samples[0][0], "y": samples[0][1], "lr": lr, "lam": lam, **net}
    first_error = None
    for convention in ("column", "row"):
        try:
            p0, p1, p2, replaced, seen, error2 = calls(fn, net, samples, lr, lam, convention)
            break
        except Exception as e:  # the student's code
            first_error = first_error or one_line(e) + hint(one_line(e))
    else:
        expected = [p - lr * g for p, g in zip(net.values(), grad_J(list(net.values()), *samples[0], lam))]
        return Report("step", cases=[Case("step 1", case_inputs, dict(zip(NAMES, expected)), note="raised an error")],
                      error=f"{first_error} (the first call)")
    true1 = [p - lr * g for p, g in zip(p0, grad_J(p0, *samples[0], lam))]
    cases = [Case("step 1", case_inputs, dict(zip(NAMES, true1)), dict(zip(NAMES, p1)))]
    if p2 is not None:
        true2 = [p - lr * g for p, g in zip(p1, grad_J(p1, *samples[1], lam))]
        cases.append(Case("step 2", {"x": samples[1][0], "y": samples[1][1], "lr": lr, "lam": lam},
                          dict(zip(NAMES, true2)), dict(zip(NAMES, p2))))
    for case in cases:
        case.ok = all((case.got[n] - case.expected[n]).abs().max() <= 1e-6 for n in NAMES)
    report = Report("step", cases=cases, conventions=["row-convention"] if convention == "row" else [])
    if error2:
        report.error = f"{error2} (the second call)"
        cases.append(Case("step 2", {"x": samples[1][0], "y": samples[1][1]}, None, note="raised an error"))
    said = {"half-mse" if c == "mse-mean-over-outputs" else c for c in conventions}
    order = sorted(J_VARIANTS, key=lambda v: (bool(v[5]), not set(v[4]) <= said, len(v[3]) + len(v[4])))
    for variant in order:
        codes = judge(p0, p1, p2, replaced, seen, samples, lr, lam, variant)
        if codes is not None:
            break
    else:
        report.differences += [f"after the first call {n}: {describe(p1[i], true1[i])}" for i, n in enumerate(NAMES)
                               if (p1[i] - true1[i]).abs().max() > 1e-6]
        report.differences.append("the move is not along the lab's gradient: check your J (check.loss, "
                                  "check.regularization) and that every parameter is updated")
        return report
    for code in codes:
        if isinstance(code, tuple) and code[0] == "step-wrong-lr":
            report.notes.append(f"your step is {code[1]:.6g} × ∂J/∂p where lr = {lr:g}")
            code = code[0]
        elif isinstance(code, tuple):
            report.notes.append(f"{code[0]}: {', '.join(code[1])} never change{'s' * (len(code[1]) == 1)}")
            code = code[0]
        if code not in report.mistakes:
            report.mistakes.append(code)
    report.mistakes += variant[3]
    # with two outputs, averaging over them halves L just as half-mse does: name the one the loss uses
    halved = "mse-mean-over-outputs" if "mse-mean-over-outputs" in conventions and "half-mse" not in conventions \
        else "half-mse"
    report.conventions += [halved if c == "half-mse" else c for c in variant[4]]
    if variant[5]:
        report.differences.append(variant[5])
    report.passed = not report.mistakes and not variant[5] and not error2
    return report
