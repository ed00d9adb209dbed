"""check.regularization(fn): fn(W, M) -> s = ‖W‖²_F + ‖M‖²_F, the squared Frobenius norms summed.

The weights only: the biases are not regularized.  A function that takes all the parameters, as
fn(W, b, M, c) or fn([W, b, M, c]), is called so (its signature says which), and then leaving the
biases out is its job.  Accepted convention: s halved ("half-reg"), whose gradient is λW.
"""
import itertools

from . import cases as C
from .calls import StudentError, close, precision, run_cases
from .child import arity  # the one reading of a signature: the child reports the student's functions with it
from .diagnose import Model, differences, match, pick
from .report import Case, Report


def reg_model(W, b, M, c, norm="squared", include_M=True, biases=False, half=False):
    """s with mistakes: norm "squared" (‖·‖²_F), "frobenius" (‖·‖_F), "abs" (Σ|·|), "root" (√(‖W‖² + ‖M‖²))."""
    terms = [W] + [M] * include_M + [b, c] * biases
    if norm == "squared" or norm == "root":
        s = sum((t * t).sum() for t in terms)
        s = s.sqrt() if norm == "root" else s
    elif norm == "frobenius":
        s = sum((t * t).sum().sqrt() for t in terms)
    else:
        s = sum(t.abs().sum() for t in terms)
    return s / 2 if half else s


def reg_models(with_biases):
    for norm, include_M, biases, half in itertools.product(("squared", "frobenius", "abs", "root"), (True, False),
                                                           (False, True) if with_biases else (False,),
                                                           (False, True)):
        codes = pick({"reg-not-squared": norm != "squared", "reg-includes-biases": biases,
                      "reg-only-first-layer": not include_M})
        flags = dict(norm=norm, include_M=include_M, biases=biases, half=half)
        yield Model(frozenset(codes), ("half-reg",) * half, lambda case, f=flags: reg_model(**case.inputs, **f))


FRAMES = {2: ("W, M", lambda i: (i["W"], i["M"])),
          4: ("W, b, M, c", lambda i: (i["W"], i["b"], i["M"], i["c"])),
          1: ("[W, b, M, c]", lambda i: ([i["W"], i["b"], i["M"], i["c"]],))}


def regularization(fn):
    """Report on fn(W, M) -> s (or fn(W, b, M, c), fn([W, b, M, c]))."""
    cases = [Case(name, inputs, reg_model(**inputs)) for name, inputs in C.reg_cases()]
    n = arity(fn)
    order = [n] if n in FRAMES else [2, 4, 1]
    first_error = None
    for k in order:
        label, args = FRAMES[k]
        try:
            outputs, tol = run_cases(fn, cases, lambda case: args(case.inputs),
                                     lambda s: s.reshape(()) if s.numel() == 1 else s)
            break
        except StudentError as e:
            first_error = first_error or str(e)
    else:
        for case in cases:
            case.note = "raised an error"
        return Report("regularization", cases=cases, error=first_error)
    finding = match(reg_models(with_biases=k != 2), outputs, tol)
    for case, got in outputs:
        case.got, case.ok = got, close(got, case.expected, 1e-4)
        if k == 2:  # show what the function was given
            case.inputs = {name: case.inputs[name] for name in ("W", "M")}
    report = Report("regularization", passed=finding.passed, mistakes=finding.mistakes,
                    conventions=(["reg-of-all-parameters"] if k != 2 else []) + finding.conventions, cases=cases)
    if k != 2:
        report.notes.append(f"called as fn({label}), as its signature asks")
    if finding.alternatives:
        report.notes.append("the cases cannot tell apart: " + " or ".join("+".join(a) for a in finding.alternatives))
    if not finding.passed and not finding.mistakes:
        report.differences += differences(outputs, lambda case: case.expected, "s")
    report.notes += precision(tol)
    return report
