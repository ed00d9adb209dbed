"""Calling a student's function: torch tensors first, NumPy arrays if that fails; outputs back as float64.

Students write torch or NumPy, so the checker meets both.  Inputs are float64 (so that the comparisons
see the student's arithmetic, not rounding); a function that builds float32 constants and fails on
float64 gets float32 tensors next, and one that fails on tensors gets NumPy arrays.
"""
import math
import traceback
import warnings

import numpy as np
import torch

from .catalogue import hint

FLOAT64_TOL, FLOAT32_TOL = 1e-7, 2e-4  # relative: float64 sums of a few terms, float32's ~1e-7 · a few
FLOAT16_TOL = 1e-2                     # float16's ~1e-3 · a few: its code is judged at its own precision


class StudentError(Exception):
    """The student's function raised on every kind of input; the message is one line naming theirs."""


def one_line(error):
    """'TypeError: ... (your line 12: u = W @ x + b)': the error and the student's last line in it."""
    if getattr(error, "remote", False):  # raised in the student's own process: its line came with it
        return str(error)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "baremlp" not in f.filename]
    where = f" (line {frames[-1].lineno}: {frames[-1].line})" if frames and frames[-1].line else ""
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}{where}"


def copy(value):
    """A fresh copy of the inputs for each call: a student's `b += ...` must not change the next case."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(copy(v) for v in value)
    return value


def as_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        return type(value)(as_numpy(v) for v in value)
    return value


def as_float32(value):
    if isinstance(value, torch.Tensor) and value.dtype == torch.float64:
        return value.float()
    if isinstance(value, (list, tuple)):
        return type(value)(as_float32(v) for v in value)
    return value


def call(fn, *args):
    """(output, kind): fn on float64 tensors, else float32 tensors, else NumPy arrays; kind names the one
    that ran ("torch", "torch-float32", "numpy").  Raises StudentError with the first error's line."""
    errors = []
    for kind, convert in (("torch", copy), ("torch-float32", as_float32), ("numpy", as_numpy)):
        try:
            with warnings.catch_warnings():  # NumPy's and torch's notes on mixed inputs are not the student's concern
                warnings.simplefilter("ignore")
                return fn(*(convert(copy(a)) for a in args)), kind
        except Exception as e:  # the student's code: any error is a finding, not ours
            errors.append(e)
    first, last = one_line(errors[0]), one_line(errors[-1])
    message = first if first.split(" (line")[0] == last.split(" (line")[0] else f"{first}; with NumPy arrays: {last}"
    raise StudentError(message + hint(message))


def to_tensor(value):
    """A student's output (tensor, array, number, list) as a detached float64 tensor; None if not numeric."""
    if value is None or isinstance(value, (str, bytes, tuple, complex)):  # np.asarray(None, float) is a NaN,
        return None                                                # a tuple is several values returned: (v, h)
    if value.is_complex() if isinstance(value, torch.Tensor) else np.iscomplexobj(value):
        return None  # complex: its imaginary part would be dropped without a word
    if isinstance(value, list) and any(isinstance(v, (torch.Tensor, np.ndarray)) for v in value):
        return None
    try:
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().to(torch.float64)
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError, RuntimeError):
        return None


def tolerance(value):
    """Relative tolerance for a student's output: float32 outputs get float32's."""
    dtype = getattr(value, "dtype", None)
    if dtype in (torch.float16, np.float16, torch.bfloat16):
        return FLOAT16_TOL
    return FLOAT32_TOL if dtype in (torch.float32, np.float32) else FLOAT64_TOL


def precision(tol):
    """The report's note when an output was judged at float16's precision."""
    return [f"your outputs are float16: judged at its precision, to {FLOAT16_TOL:g} relative"] \
        if tol >= FLOAT16_TOL else []


def close(got, expected, tol):
    """Same shape, and |got − expected| ≤ tol · max(1, max|expected|) everywhere (NaN matches NaN)."""
    if got is None or expected is None or got.shape != expected.shape:
        return False
    if got.numel() == 0:
        return True
    scale, worst = expected.abs().max().item(), (got - expected).abs().max().item()
    if math.isfinite(scale) and math.isfinite(worst):  # the common case, in two reductions
        return worst <= tol * max(1.0, scale)
    finite = torch.isfinite(expected)
    scale = max(1.0, expected[finite].abs().max().item() if finite.any() else 1.0)
    both_nan = torch.isnan(got) & torch.isnan(expected)
    same_inf = torch.isinf(got) & (got == expected)
    return bool((((got - expected).abs() <= tol * scale) | both_nan | same_inf).all())


def describe(got, expected):
    """Where an output is off and by how much, in one phrase."""
    if got is None:
        return "your output is not a number or an array of numbers"
    if got.shape != expected.shape:
        return f"your output has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    diff = (got - expected).abs()
    if not torch.isfinite(diff).all():
        return "your output holds NaN or infinite values"
    i = int(diff.argmax())
    index = tuple(int(k) for k in np.unravel_index(i, tuple(got.shape))) if got.dim() else ()
    at = f" at {list(index)}" if index else ""
    return f"off by {diff.max().item():.4g}{at} (yours {got.reshape(-1)[i].item():.6g}, " \
           f"expected {expected.reshape(-1)[i].item():.6g})"


def ratio(got, expected):
    """got / expected when got is one constant multiple of expected (to 1e-6), else None."""
    if got is None or got.shape != expected.shape or not torch.isfinite(got).all():
        return None
    scale = expected.abs().max().item()
    if scale == 0:
        return None
    k = (got * expected).sum().item() / (expected * expected).sum().item()
    return k if (got - k * expected).abs().max().item() <= 1e-6 * max(1.0, abs(k) * scale) else None


def run_cases(fn, cases, args, unframe):
    """Calls fn on each case: args(case) -> the positional arguments, unframe(output) -> a float64
    tensor in the column convention.  Returns ([(case, got)], tol); raises StudentError naming the case."""
    outputs, tol = [], FLOAT64_TOL
    for case in cases:
        try:
            out, kind = call(fn, *args(case))
        except StudentError as e:
            raise StudentError(f"{e} on {case.name}") from None
        got = to_tensor(out)
        if got is None:  # several values returned, or not numbers: say what came back
            what = f"a {type(out).__name__} of {len(out)} value{'s' * (len(out) != 1)}" \
                if isinstance(out, (tuple, list, dict)) else getattr(out, "what", None) or \
                (f"a complex {type(out).__name__}" if "complex" in str(getattr(out, "dtype", "")) else
                 type(out).__name__)
            raise StudentError(f"returned {what}, expected a tensor, an array or a number on {case.name}")
        tol = max(tol, FLOAT32_TOL if kind == "torch-float32" else tolerance(out))
        outputs.append((case, unframe(got)))
    return outputs, tol
