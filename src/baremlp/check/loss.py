"""check.loss(fn, kind): fn(v, y) -> L, a scalar.

    mse:            L = (1/N) Σ_n ‖v_n − y_n‖²                v, y (N, K); one sample: v, y (K,)
    cross_entropy:  L = −(1/N) Σ_n log softmax(v_n)[y_n]      v (N, K) logits, y (N,) class indices

Accepted conventions: the MSE averaged over the outputs too (÷K, "mse-mean-over-outputs") and halved
("half-mse"); cross-entropy's targets as one-hot rows.  A batch with K = 3 outputs tells ÷K from ÷2.
One sample is tried as vectors (K,) first, then as a batch of one row (1, K).
"""
import itertools

import torch

from . import cases as C
from .calls import StudentError, close, precision, run_cases
from .diagnose import Model, differences, match, pick
from .report import Case, Report


def rows(t):
    return t.reshape(1, -1) if t.dim() <= 1 else t


def mse_model(v, y, samples="mean", outputs="sum", power=2, root=None, half=False):
    """The MSE with mistakes and conventions switched on; v, y (K,) or (N, K)."""
    e = (rows(v) - rows(y)).abs() ** power              # (N, K)
    q = e.sum(1) if outputs == "sum" else e.mean(1)     # (N,): each sample's error
    if root == "per-sample":
        q = q.sqrt()                                     # ‖v_n − y_n‖, the norm of each sample's error
    L = q.sum() if samples == "sum" else q.mean()
    if root == "total":
        L = L.sqrt()
    return L / 2 if half else L


def mse_models():
    for samples, power, root, outputs, half in itertools.product(("mean", "sum"), (2, 1), (None, "total", "per-sample"),
                                                                 ("sum", "mean"), (False, True)):
        if power == 1 and root:
            continue
        codes = pick({"mse-sum-not-mean": samples == "sum", "mse-not-squared": power == 1, "rmse-not-mse": bool(root)})
        conventions = ("mse-mean-over-outputs",) * (outputs == "mean") + ("half-mse",) * half
        flags = dict(samples=samples, outputs=outputs, power=power, root=root, half=half)
        yield Model(frozenset(codes), conventions, lambda case, f=flags: mse_model(**case.inputs, **f))


def ce_model(v, y, form="log-softmax", negate=True):
    """Cross-entropy with mistakes: form "softmax-twice" (log softmax of softmax(v)), "log-raw" (log v_y,
    v taken as probabilities), "raw" (v_y itself: no log softmax at all), "exp-naive" and "log-of-softmax"
    (right but for large logits, where they overflow); negate False drops the minus."""
    v, y = rows(v), y.reshape(-1)
    if form == "log-softmax":
        logp = torch.log_softmax(v, 1)
    elif form == "softmax-twice":
        logp = torch.log_softmax(torch.softmax(v, 1), 1)
    elif form == "log-raw":
        logp = v.log()
    elif form == "exp-naive":  # softmax as exp(v) / Σ exp(v), no max subtracted: inf / inf on large logits
        logp = (v.exp() / v.exp().sum(1, keepdim=True)).log()
    elif form == "log-of-softmax":  # log(softmax(v)): log 0 = −inf for a class far below the others
        logp = torch.softmax(v, 1).log()
    else:
        logp = v
    L = logp[torch.arange(len(y)), y].mean()
    return -L if negate else L


def ce_models():
    for form, negate in itertools.product(("log-softmax", "softmax-twice", "log-raw", "raw", "exp-naive",
                                           "log-of-softmax"), (True, False)):
        codes = pick({"ce-on-probabilities": form in ("softmax-twice", "log-raw", "raw"), "ce-not-negated": not negate,
                      "ce-overflow": form in ("exp-naive", "log-of-softmax")})
        yield Model(frozenset(codes), (), lambda case, f=dict(form=form, negate=negate): ce_model(**case.inputs, **f))


def one_hot(y, k):
    """Class indices y (N,) or () as one-hot rows (N, K) or (K,)."""
    return (torch.arange(k) == y.reshape(-1, 1)).to(torch.float64).reshape(*y.shape, k)


def loss(fn, kind="mse"):
    """Report on fn(v, y) -> L for kind "mse" or "cross_entropy" (also "cross-entropy")."""
    kind = kind.replace("-", "_")
    if kind not in ("mse", "cross_entropy"):
        from baremlp.errors import UsageError
        raise UsageError(f"kind {kind!r} unknown: expected 'mse' or 'cross_entropy'")
    mse = kind == "mse"
    singles, batches = C.mse_cases() if mse else C.ce_cases()
    reference = mse_model if mse else ce_model
    all_cases = [Case(name, inputs, reference(**inputs)) for name, inputs in singles + batches]
    n_single = len(singles)
    targets = [("indices", None)] if mse else [("indices", None), ("one-hot", "one-hot-targets")]
    # the lab's network has 2 outputs; a function written for exactly 2 is judged without the 3-output case
    two = [case for case in all_cases if case.inputs["v"].shape[-1] == 2]
    tried, first_error = [], None
    for (target, convention), layout, cases in itertools.product(targets, ("vector", "row"), (all_cases, two)):
        def args(case, target=target, layout=layout):
            v, y = case.inputs["v"], case.inputs["y"]
            if target == "one-hot":
                y = one_hot(y, v.shape[-1])
            if layout == "row" and v.dim() == 1:
                v, y = v.reshape(1, -1), (y.reshape(1, -1) if y.dim() else y.reshape(1))
            return v, y
        try:
            outputs, tol = run_cases(fn, cases, args, lambda L: L.reshape(()) if L.numel() == 1 else L)
        except StudentError as e:
            first_error = first_error or str(e)
            continue
        finding = match(mse_models() if mse else ce_models(), outputs, tol)
        finding.conventions = ([convention] if convention else []) + finding.conventions
        tried.append(((not finding.passed, not finding.mistakes, len(finding.mistakes), cases is two), layout,
                      outputs, finding))
        if finding.passed or finding.mistakes:  # explained: the frames after it are less natural readings
            break
    name = "loss" if mse else "loss (cross-entropy)"
    if not tried:
        for case in all_cases:
            case.note = "raised an error"
        return Report(name, cases=all_cases, error=first_error)
    _, layout, outputs, finding = min(tried, key=lambda t: t[0])
    for case, got in outputs:
        case.got, case.ok = got, close(got, case.expected, 1e-4)
    for case in all_cases[len(outputs):] if len(outputs) < len(all_cases) else []:
        case.note = "left out: your function is for 2 outputs"
    report = Report(name, passed=finding.passed, mistakes=finding.mistakes, conventions=finding.conventions,
                    cases=all_cases)
    if layout == "row" and n_single:
        report.notes.append("one sample was taken as a batch of one row (1, K)")
    if len(outputs) < len(all_cases):
        report.notes.append("your function was judged on 2 outputs only (it fails, or differs, on 3)" +
                            (": with 2 outputs, averaging over them (÷K) and halving (÷2) look alike" if mse else ""))
    if finding.alternatives:
        report.notes.append("the cases cannot tell apart: " + " or ".join("+".join(a) for a in finding.alternatives))
    if not finding.passed and not finding.mistakes:
        report.differences += differences(outputs, lambda case: case.expected, "L")
    report.notes += precision(tol)
    return report
