"""check.forward(fn): fn(x, W, b, M, c) -> v for the lab's 2-3-2 network.

    u = W x + b      W (3, 2), b (3,)        column convention: one sample x (2,) is a column
    h = ReLU(u)
    v = M h + c      M (2, 3), c (2,)        v (2,); a batch X (N, 2) of rows gives V (N, 2)

One sample is tried first, as a vector x (2,), then as a column (2, 1) or a row (1, 2); weights in the
column convention first, then transposed (row convention: u = x W + b with W (2, 3)).  Then a batch:
rows X (N, 2) (the lab's layout: U = X Wᵀ + b), or columns X (2, N).  Each catalogued mistake is the
reference with that mistake applied; the outputs name the ones that match.
"""
import torch

from . import cases as C
from .calls import StudentError, close, precision, run_cases
from .diagnose import Model, combine_flags, differences, match
from .report import Case, Report

VARIANTS = [  # (code, the flags of one way to make it, what that way is); combine_flags merges up to three
    ("no-bias", {"b": 0}, "b is missing: u = W x"), ("no-bias", {"c": 0}, "c is missing: v = M h"),
    ("no-bias", {"b": 0, "c": 0}, "b and c are both missing"),
    ("bias-twice", {"b": 2}, "b is added twice"), ("bias-twice", {"c": 2}, "c is added twice"),
    ("bias-twice", {"b": 2, "c": 2}, "b and c are both added twice"),
    ("no-relu", {"relu": False}, "h = u"),
    ("relu-on-output", {"relu_out": True}, "a ReLU on v, besides the one on u"),
    ("relu-on-output", {"relu_out": True, "relu": False}, "the ReLU is on v instead of on u"),
    ("relu-before-first-layer", {"relu_in": True}, "a ReLU on x, besides the one on u"),
    ("relu-before-first-layer", {"relu_in": True, "relu": False}, "the ReLU is on x instead of on u"),
    ("softmax-on-output", {"softmax": True}, "v = softmax(M h + c)"),
    ("wrong-weight", {"first": "MT"}, "the first layer uses Mᵀ where W belongs"),
    ("wrong-weight", {"second": "WT"}, "the second layer uses Wᵀ where M belongs"),
    ("wrong-weight", {"first": "MT", "second": "WT"}, "W and M are swapped (as Mᵀ and Wᵀ)"),
]


def model_forward(x, W, b, M, c, b_scale=1, c_scale=1, relu=True, relu_out=False, relu_in=False, softmax=False,
                  first="W", second="M"):
    """The forward pass with mistakes switched on: x (2,) or (N, 2) rows -> v (2,) or (N, 2)."""
    A = M.T if first == "MT" else W        # (3, 2): the first layer's weights
    B = W.T if second == "WT" else M       # (2, 3)
    u = (torch.relu(x) if relu_in else x) @ A.T + b_scale * b
    h = torch.relu(u) if relu else u
    v = h @ B.T + c_scale * c
    if relu_out:
        v = torch.relu(v)
    if softmax:
        v = torch.softmax(v, dim=-1)  # over the outputs of each sample
    return v


def predictor(flags):
    renamed = {{"b": "b_scale", "c": "c_scale"}.get(k, k): v for k, v in flags.items()}
    return lambda case: model_forward(**case.inputs, **renamed)


def models(most=3):
    yield Model(frozenset(), (), predictor({}))
    for size in range(1, most + 1):
        for codes, flags, detail in combine_flags(VARIANTS, size):
            yield Model(codes, (), predictor(flags), detail=detail)


# One sample: (weights' convention, x's layout) in the order tried; row convention passes Wᵀ, Mᵀ.
SINGLE_FRAMES = [("column", "vector"), ("column", "column"), ("column", "row"), ("row", "vector"), ("row", "row")]
LAYOUT = {"vector": lambda x: x, "column": lambda x: x.reshape(2, 1), "row": lambda x: x.reshape(1, 2)}


def args_for(convention, layout):
    def args(case):
        i = case.inputs
        W, M = (i["W"], i["M"]) if convention == "column" else (i["W"].T.contiguous(), i["M"].T.contiguous())
        x = i["x"].T.contiguous() if layout == "columns" else LAYOUT.get(layout, lambda x: x)(i["x"])
        return x, W, i["b"], M, i["c"]
    return args


def single_out(v):
    return v.reshape(2) if v.numel() == 2 else v


def forward(fn):
    """Report on fn(x, W, b, M, c) -> v: one sample (worked cases 1, 2, then random), then a batch."""
    singles, batches = C.forward_cases()
    singles = [Case(name, inputs, model_forward(**inputs)) for name, inputs in singles]
    batches = [Case(name, inputs, model_forward(**inputs)) for name, inputs in batches]
    tried, first_error = [], None
    for convention, layout in SINGLE_FRAMES:
        try:
            outputs, tol = run_cases(fn, singles, args_for(convention, layout), single_out)
        except StudentError as e:
            first_error = first_error or str(e)
            continue
        finding = match(models(), outputs, tol, by_size=True)
        tried.append(((not finding.passed, not finding.mistakes, len(finding.mistakes)), convention, layout,
                      outputs, tol, finding))
        if finding.passed or finding.mistakes:  # explained: the frames after it are less natural readings
            break
    if not tried:
        report = column_biases(fn, singles, first_error)
        if report is not None:
            return report
        for case in singles:
            case.note = "raised an error"
        return Report("forward", cases=singles, error=first_error)
    _, convention, layout, outputs, tol, finding = min(tried, key=lambda t: t[0])
    record(outputs)
    report = Report("forward", mistakes=list(finding.mistakes), cases=list(singles),
                    conventions=(["row-convention"] if convention == "row" else []) + finding.conventions)
    if finding.model is not None and finding.model.detail and not finding.alternatives:
        report.notes.append(f"what your function computes: {finding.model.detail}")
    if layout != "vector":
        report.notes.append(f"one sample was taken as a {layout} x of shape {tuple(LAYOUT[layout](torch.zeros(2)).shape)}")
    if finding.alternatives:
        report.notes.append("the cases cannot tell apart: " + " or ".join("+".join(a) for a in finding.alternatives))
    if not finding.mistakes and not finding.passed:
        report.differences += differences(outputs, lambda case: case.expected, "v")
    # the batch: the single-sample finding must hold for it too (when one sample is not explained,
    # a batch cannot be judged against it: its outputs are shown, not diagnosed)
    expect = finding.model.predict if finding.model else (lambda case: case.expected)
    problem = None
    for batch_layout in (["rows", "columns"] if convention == "column" else ["rows"]):
        unframe = (lambda v: v.T if v.dim() == 2 else v) if batch_layout == "columns" else (lambda v: v)
        try:
            b_out, b_tol = run_cases(fn, batches, args_for(convention, batch_layout), unframe)
        except StudentError as e:
            problem = problem or f"a batch X (N, 2) of rows failed: {e}"
            continue
        if batch_layout == "rows" or problem is None:
            record(b_out)
        if all(close(got, expect(case), b_tol) for case, got in b_out):
            record(b_out)
            problem = None
            if batch_layout == "columns":
                report.conventions.append("batch-as-columns")
            break
        problem = problem or "a batch X (N, 2) of rows: " + "; ".join(differences(b_out, expect, "V"))
    for case in batches:
        case.note = case.note or ("raised an error" if case.got is None else "")
    if problem and finding.model is not None:
        report.mistakes.append("batch-unsupported")
        report.differences.append(problem)
    report.cases += batches
    report.passed = finding.passed and "batch-unsupported" not in report.mistakes
    report.notes += precision(tol)
    return report


def column_biases(fn, singles, first_error):
    """A forward for column vectors that raised on every frame: right when b (3, 1) and c (2, 1) are columns
    too?  Then its mistake is bias-broadcast (a (3,) bias added to a column broadcasts to (3, 3)); else None."""
    def args(case):
        x, W, b, M, c = args_for("column", "column")(case)
        return x, W, b.reshape(-1, 1), M, c.reshape(-1, 1)
    try:
        outputs, tol = run_cases(fn, singles, args, single_out)
    except StudentError:
        return None
    if not all(close(got, case.expected, tol) for case, got in outputs):
        return None
    record(outputs)
    return Report("forward", mistakes=["bias-broadcast"], cases=list(singles),
                  notes=[f"with b (3, 1) and c (2, 1) given as columns your function is right; with b (3,) it "
                         f"raised: {first_error}"])


def record(outputs):
    """Keeps the student's outputs on their cases (ok: equal to the lab's answer)."""
    for case, got in outputs:
        case.got, case.ok = got, close(got, case.expected, 1e-4)
