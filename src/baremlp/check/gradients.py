"""check.gradients(fn): fn(x, y, W, b, M, c, lam) -> {"W": dW, "b": db, "M": dM, "c": dc}, the derivation
as code, compared per parameter with autograd's ∂J/∂p for J = L + λ (‖W‖²_F + ‖M‖²_F), L the MSE.

    δ_v = 2 (v − y) / N                     (N, 2)   rows of a batch; one sample: N = 1
    ∂J/∂c = Σ_n δ_v,n                       (2,)
    ∂J/∂M = δ_vᵀ H + 2λ M                   (2, 3)
    δ_u = (δ_v M) ⊙ 1[U > 0]                (N, 3)
    ∂J/∂b = Σ_n δ_u,n                       (3,)
    ∂J/∂W = δ_uᵀ X + 2λ W                   (3, 2)

Each parameter's gradient is matched on its own against the reference with the catalogued mistakes
applied (a factor on the data term, its sign, the λ term's factor, the mask, a transpose, the bias's
sum over samples), so a mistake is named for the parameters it shows in.  conventions: the loss's
("half-mse", "mse-mean-over-outputs", "half-reg", as check.loss and check.regularization report them),
under which the lab's J has other constant factors; check.all passes them on.
"""
import itertools

from . import cases as C
from .calls import FLOAT32_TOL, FLOAT64_TOL, StudentError, call, close, precision, to_tensor, tolerance
from .diagnose import differences, match
from .gradient_models import NAMES, autograd, data_factors, models, parts
from .report import Case, Report


KEYS = {name: (name, "d" + name, "grad_" + name, "d" + name.lower(), name.lower()) for name in NAMES}


def unpack(out, convention, columns):
    """The student's gradients as {name: float64 tensor} in the column convention (None where missing):
    a dict keyed W, b, M, c (or dW, ...), or a list of the four in that order."""
    if isinstance(out, dict):
        values = [next((out[k] for k in KEYS[n] if k in out), None) for n in NAMES]
    elif isinstance(out, (list, tuple)) and len(out) == 4:
        values = list(out)
    else:
        return None
    grads = {}
    for name, v in zip(NAMES, values):
        t = to_tensor(v) if v is not None else None
        if t is not None and name in ("W", "M") and convention == "row" and t.dim() == 2:
            t = t.T  # row convention: the student's W is the lab's Wᵀ, and so is its gradient
        if t is not None and name in ("b", "c") and columns and t.dim() == 2:
            t = t.T  # a batch as columns: one column per sample
        grads[name] = t
    return grads


def squeeze_like(t, like):
    """A vector returned as a column (3, 1), or a matrix with extra unit axes, as the parameter's shape."""
    if t is not None and t.shape != like.shape and t.numel() == like.numel() and \
            [s for s in t.shape if s != 1] == [s for s in like.shape if s != 1]:
        return t.reshape(like.shape)
    return t


def args_for(convention, layout):
    def args(case):
        i = case.inputs
        W, M = (i["W"], i["M"]) if convention == "column" else (i["W"].T.contiguous(), i["M"].T.contiguous())
        x, y = (i["x"].T.contiguous(), i["y"].T.contiguous()) if layout == "columns" else \
            (i["x"].reshape(1, 2), i["y"].reshape(1, 2)) if layout == "row" else (i["x"], i["y"])
        return x, y, W, i["b"], M, i["c"], i["lam"]
    return args


def attempt(fn, cases, convention, layout):
    """([(case, {name: grad})], tol) for every case; raises StudentError when a call fails or returns no gradients."""
    outputs, tol = [], FLOAT64_TOL
    for case in cases:
        try:
            out, kind = call(fn, *args_for(convention, layout)(case))
        except StudentError as e:
            raise StudentError(f"{e} on {case.name}") from None
        grads = unpack(out, convention, layout == "columns")
        if grads is None:
            raise StudentError(f"returned {type(out).__name__}, expected a dict {{'W': dW, 'b': db, 'M': dM, 'c': dc}} "
                               f"on {case.name}")
        missing = [name for name, g in grads.items() if g is None]
        if missing:
            found = ", ".join(map(str, out)) if isinstance(out, dict) else f"{len(out)} values"
            raise StudentError(f"returned no gradient for {', '.join(missing)} (found: {found}); expected a dict "
                               f"{{'W': dW, 'b': db, 'M': dM, 'c': dc}} on {case.name}")
        values = out.values() if isinstance(out, dict) else out
        tol = max([tol, FLOAT32_TOL if kind == "torch-float32" else tol] + [tolerance(v) for v in values])
        single = case.inputs["x"].dim() == 1
        outputs.append((case, {n: squeeze_like(g, case.expected[n]) if single or n in ("W", "M") else g
                               for n, g in grads.items()}))
    return outputs, tol


def judge(outputs, tol, conventions):
    """Per parameter: the Finding of its gradient over all cases."""
    data_base, reg_base = data_factors(conventions)
    return {name: match(models(name, data_base, reg_base), [(case, grads[name]) for case, grads in outputs], tol)
            for name in NAMES}


def quality(findings):
    """Sort key of an attempt's findings: all passed first, then fewest unexplained parameters and codes."""
    unexplained = sum(not f.passed and not f.mistakes for f in findings.values())
    return (not all(f.passed for f in findings.values()), unexplained,
            len({m for f in findings.values() for m in f.mistakes}))


def gradients(fn, conventions=()):
    """Report on fn(x, y, W, b, M, c, lam) -> {"W", "b", "M", "c"}: one sample (worked cases 6, 4, 2, then
    random), then a batch of rows X (N, 2) (or columns (2, N)).  conventions: the loss's, see the module."""
    conventions = list(conventions)
    singles, batches = C.gradient_cases()
    make = lambda name, inputs: Case(name, inputs, autograd(**inputs))  # noqa: E731
    singles = [make(n, i) for n, i in singles]
    batches = [make(n, i) for n, i in batches]
    for case in singles + batches:
        case.parts = parts(**case.inputs)
    tried, first_error = read_one_sample(fn, singles, conventions)
    if not tried:
        for case in singles:
            case.note = "raised an error"
        return Report("gradients", cases=singles + batches, error=first_error)
    _, convention, single, outputs, tol, findings = min(tried, key=lambda t: t[0])
    explained = all(f.passed or f.mistakes for f in findings.values())
    layout, findings, outputs, batch_error = read_batch(fn, batches, conventions, convention, outputs, tol, findings)
    report = Report("gradients", cases=singles + batches,
                    conventions=(["row-convention"] if convention == "row" else []) +
                    (["batch-as-columns"] if layout == "columns" else []))
    put_findings(report, findings, outputs, single)
    if batch_error and explained:  # written for one sample, as the lab derives them: judged on one sample
        report.conventions.append("per-sample-gradients")
        report.notes.append(f"judged on single samples; {batch_error}")
    for case, grads in outputs:
        case.got = grads
        case.ok = all(close(grads[n], case.expected[n], 1e-4) for n in NAMES)
    for case in report.cases:
        case.note = case.note or ("raised an error" if case.got is None else "")
        case.__dict__.pop("parts", None)
    report.passed = all(f.passed for f in findings.values()) and not report.mistakes
    report.notes += precision(tol)
    return report


def read_one_sample(fn, singles, conventions):
    """The readings of fn on one sample that ran: (quality, convention, single, outputs, tol, findings)
    each, trying a vector x (2,) then a row (1, 2), the weights as given then transposed; and the first
    error a reading raised."""
    tried, first_error = [], None
    for convention, single in itertools.product(("column", "row"), ("vector", "row")):
        try:
            outputs, tol = attempt(fn, singles, convention, single)
        except StudentError as e:
            first_error = first_error or str(e)
            continue
        findings = judge(outputs, tol, conventions)
        tried.append((quality(findings), convention, single, outputs, tol, findings))
        if quality(findings)[1] == 0:  # every parameter explained: the readings after it are not needed
            break
    return tried, first_error


def read_batch(fn, batches, conventions, convention, outputs, tol, findings):
    """fn on a batch: rows first (the lab's layout), then columns; kept when it is explained as well as
    one sample.  Returns (layout or None, findings, outputs, the batch's failure in words or None)."""
    batch_error, layout, candidates = None, None, []
    for shape in ("rows", "columns") if convention == "column" else ("rows",):
        try:
            b_out, b_tol = attempt(fn, batches, convention, shape)
        except StudentError as e:
            batch_error = batch_error or f"a batch X (N, 2) of rows failed: {e}"
            continue
        both = judge(outputs + b_out, max(tol, b_tol), conventions)
        candidates.append((quality(both)[:2], shape, both, outputs + b_out))
    if candidates:
        best = min(candidates, key=lambda t: t[0])
        if best[0][1] <= quality(findings)[1]:  # no parameter less explained than with one sample
            _, layout, findings, outputs = best
            batch_error = None
        else:
            rows = [c for c in candidates if c[1] == "rows"]
            batch_error = batch_error or "a batch X (N, 2) of rows gives other numbers: " + "; ".join(
                d for n in NAMES for d in differences([(c, g[n]) for c, g in rows[0][3][len(outputs):]] if rows else [],
                                                      lambda case, n=n: case.expected[n], f"∂J/∂{n}")[:1])
    return layout, findings, outputs, batch_error


def put_findings(report, findings, outputs, single):
    """The report's mistakes, notes and differences from the findings per parameter."""
    report.mistakes = [m for m in dict.fromkeys(m for f in findings.values() for m in f.mistakes)]
    if single == "row":
        report.notes.append("one sample was given as a batch of one row, x (1, 2)")
    where = {m: [n for n in NAMES if m in findings[n].mistakes] for m in report.mistakes}
    for m, names in where.items():
        listed = [f"∂J/∂{n}" for n in names]
        report.notes.append(f"{m} shows in your {' and '.join([', '.join(listed[:-1]), listed[-1]] if len(listed) > 1 else listed)}.")
    for name, f in findings.items():
        if f.mistakes and f.model is not None and f.model.detail and not f.alternatives:
            report.notes.append(f"your ∂J/∂{name} is the lab's with {f.model.detail}")
    for name, f in findings.items():
        if f.alternatives:
            report.notes.append(f"∂J/∂{name}: the cases cannot tell apart " +
                                " or ".join("+".join(a) for a in f.alternatives))
        if not f.passed and not f.mistakes:
            report.differences += differences([(c, g[name]) for c, g in outputs],
                                              lambda case, n=name: case.expected[n], f"∂J/∂{name}")
