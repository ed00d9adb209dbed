"""Reads your own table into tensors for training, and new inputs for prediction.

CSV: a header row of column names, then one example per row. You name the target column(s);
every other column is an input, unless you choose the inputs (features) or leave columns out
(drop); cells are delimited by ',', ';' or tab (data/reading.py). Inputs and regression targets
must be finite numbers; a class target may hold any labels, numbered 0..K-1 in sorted order
(numbers sorted as numbers; 1.0 is the label 1, as in scikit-learn).
NumPy .npz: array "x" (N, F) and array "y", (N,) or (N, T); integer or text y is read as class
labels, float y as regression targets. Files are read with the csv module and with
numpy.load(allow_pickle=False), so nothing in a file ever runs as code. Every problem is a
one-line UsageError (a ValueError) naming the file and, where it applies, the row (header = row 1) and column.
"""
import io
import math
import os
import re
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import UsageError
from .reading import err as _err, names as _names, read as _read, read_csv as _read_csv

TASKS = ("regression", "classification")
MAX_CLASSES = 20  # more distinct integers than this look like counts or measurements, not labels
_INT = re.compile(r"[+-]?\d+")


@dataclass
class Table:
    x: torch.Tensor          # (N, features) float
    y: torch.Tensor          # (N, targets) float for regression, (N,) int64 class indices
    inputs: list[str]
    targets: list[str]
    task: str                # "regression" | "classification"
    classes: list[str] | None  # label of each class index; None for regression


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _numbers(path, header, rows, lines, columns, dtype, hint=lambda column: ""):
    """The named columns as an (N, len(columns)) tensor of finite numbers; hint(column) follows "not a number"."""
    position = {c: j for j, c in enumerate(header)}  # one pass, not header.index per column
    index = [position[c] for c in columns]
    values = []
    for n, row in zip(lines, rows):
        values.append([_number(row[j]) for j in index])
        for j, v in zip(index, values[-1]):
            if v is None or not math.isfinite(v):
                problem = "is not a number" + hint(header[j]) if v is None else "is NaN or infinite, expected a finite number"
                raise _err(path, f"row {n}, column {header[j]!r}: {row[j]!r} {problem}")
    t = torch.tensor(values, dtype=dtype)
    bad = (~torch.isfinite(t)).nonzero()
    if len(bad):  # finite as a Python float, yet too large for dtype (1e300 in float32)
        i, j = bad[0].tolist()
        raise _err(path, f"row {lines[i]}, column {columns[j]!r}: {rows[i][index[j]]!r} is too large for {dtype}")
    return t


def _task(path, task, classes, n_targets, labels, column):
    """labels: a function giving the single target's values as text, called only when inferring."""
    if task not in (None, *TASKS):
        raise _err(path, f"task must be 'regression' or 'classification', not {task!r}")
    if task is None and classes is not None:
        task = "classification"  # a training class list means the test data is labelled the same way
    elif task is None and n_targets == 1 and (values := labels()) is not None:
        task = _infer(column, [s for s in values if s])  # blanks left out: a missing measurement is reported as such
    task = task or "regression"
    if task == "classification" and n_targets != 1:
        raise _err(path, f"classification needs exactly one target column, got {n_targets}")
    return task


def _infer(column, values):
    """Text labels, or a few distinct whole numbers (1 and 1.0 alike, as scikit-learn has it), are
    classes; any other numbers are measurements.  Where whole numbers could be either, one line
    (a warning: the CLI's "note:") says which was chosen, and why."""
    if any(_number(s) is None for s in values):
        return "classification"
    wholes = [_whole(s) for s in values]
    if None in wholes:
        return "regression"
    written = {}  # each whole number as first written
    for s, w in zip(values, wholes):
        written.setdefault(w, s)
    if len(written) > MAX_CLASSES:
        warnings.warn(f"column {column!r} holds {len(written)} distinct whole numbers, more than {MAX_CLASSES}: read "
                      "as measurements; pass task='classification' (--task classification) if they are class labels")
        return "regression"
    if not all(_INT.fullmatch(s) for s in values):
        shown = ", ".join(written[w] for w in sorted(written)[:5]) + (", …" if len(written) > 5 else "")
        warnings.warn(f"column {column!r} holds {len(written)} distinct whole numbers written with a decimal point "
                      f"({shown}): read as class labels; pass task='regression' (--task regression) if they are "
                      "measurements")
    return "classification"


def _whole(text):
    """The whole number text writes (7 for "07", "+7", "7.0", "7e0"), or None.  A float counts only
    below 2**53: above it every float is integral, so being integral says nothing (1e19 is a measurement)."""
    if _INT.fullmatch(text):
        return int(text)
    v = _number(text)
    return int(v) if v is not None and math.isfinite(v) and v.is_integer() and abs(v) < 2**53 else None


def _canonical(label):
    """"07", "+7", "7.0" and "7e0" are class "7"; any other label is itself."""
    w = _whole(label)
    return label if w is None else str(w)


def _sort_key(label):
    v = _number(label)
    return (0, v, label) if v is not None and math.isfinite(v) else (1, 0.0, label)


def _encode(path, labels, where, column, classes):
    """Class indices (int64) and the class list: the training one when given, else the sorted labels."""
    labels = [_canonical(s) for s in labels]
    if "" in labels:
        raise _err(path, f"{where[labels.index('')]}: empty class label")
    if classes is None:
        classes = sorted(set(labels), key=_sort_key)
        if len(classes) < 2:
            raise UsageError(f"only one class {classes[0]!r} in column {column!r} of {os.fspath(path)}: "
                             "expected at least two")
    index = {c: i for i, c in enumerate(_canonical(str(c)) for c in classes)}
    for s, w in zip(labels, where):
        if s not in index:
            raise _err(path, f"{w}: label {s!r} is not one of the classes ({', '.join(index)})")
    return torch.tensor([index[s] for s in labels], dtype=torch.int64), list(index)


def _columns(path, header, names, what):
    """The columns named as target, features or drop ('a,b' or a list; None: none), each in the header."""
    names = [n.strip() for n in (names.split(",") if isinstance(names, str) else names or [])]
    present = set(header)
    missing = [n for n in names if n not in present]
    if missing:
        one = " (the header is one column: baremlp reads tables delimited by ',', ';' or tab)" if len(header) == 1 else ""
        raise _err(path, f"no {what} column {_names(missing)}; the columns are {_names(header)}{one}")
    return names


def from_csv(path, target, *, task=None, classes=None, inputs=None, features=None, drop=None,
             dtype=torch.float32) -> Table:
    """target, features (the inputs; default: all other columns), drop (columns left out): a name, 'a,b'
    or a list. inputs/classes: the training ones, for test data."""
    header, rows, lines = _read_csv(path)
    targets = _columns(path, header, target, "target")
    chosen, dropped = _columns(path, header, features, "features"), _columns(path, header, drop, "drop")
    if set(chosen) & set(targets + dropped):
        raise _err(path, f"features {_names(chosen)} name a target or a dropped column: expected inputs only")
    left_out = set(targets + dropped)
    rest = chosen or [c for c in header if c not in left_out]
    if inputs is not None:
        inputs = list(inputs)
        have, want = set(rest), set(inputs)
        lacking, extra = [c for c in inputs if c not in have], [c for c in rest if c not in want]
        if lacking or extra:
            raise _err(path, f"test data columns differ from training: missing {_names(lacking)}, "
                       f"unexpected {_names(extra)} (training inputs: {_names(inputs)})")
    inputs = rest if inputs is None else inputs
    if not inputs:
        raise _err(path, f"no input columns left: every column is a target ({_names(targets)})")
    j = header.index(targets[0])
    task = _task(path, task, classes, len(targets), lambda: [r[j] for r in rows], targets[0])
    x = _numbers(path, header, rows, lines, inputs, dtype,
                 hint=lambda c: f" (leave the column out with drop={c!r} (--drop {c}), or choose the inputs with features (--features))")
    if task == "regression":
        return Table(x, _numbers(path, header, rows, lines, targets, dtype), inputs, targets, task, None)
    y, classes = _encode(path, [r[j] for r in rows], [f"row {n}, column {targets[0]!r}" for n in lines],
                         targets[0], classes)
    return Table(x, y, inputs, targets, task, classes)


def _load(path, want):
    """The arrays named in want, from an .npz archive (or a lone .npy array as "x")."""
    raw = _read(path)
    if not raw.startswith((b"PK", b"\x93NUMPY")):  # the zip (.npz) and .npy signatures
        raise _err(path, "not a NumPy .npy or .npz file")
    try:
        data = np.load(io.BytesIO(raw), allow_pickle=False)
        arrays = {k: data[k] for k in data.files} if hasattr(data, "files") else {"x": data}
    except Exception as e:  # a damaged archive fails in many ways (zipfile, zlib, format, pickled objects)
        raise _err(path, f"cannot read: {' '.join(str(e).split())}") from None
    for name in want:
        if name not in arrays:
            raise _err(path, f"no array {name!r} (the file holds: {_names(sorted(arrays))})")
    return [arrays[name] for name in want]


def _tensor(path, name, a, dtype):
    if a.dtype.kind not in "biuf":
        raise _err(path, f"array {name!r} holds {a.dtype} values, expected numbers")
    t = torch.from_numpy(a.astype(np.float64)).to(dtype)
    bad = (~torch.isfinite(t)).nonzero()
    if len(bad):
        at = ", ".join(map(str, bad[0].tolist()))
        raise _err(path, f"array {name!r} holds a non-finite value (NaN, inf, or too large for {dtype}) "
                   f"at {name}[{at}]")
    return t


def _label(v):
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def from_npz(path, *, task=None, classes=None, dtype=torch.float32) -> Table:
    """Arrays "x" (N, F) and "y" (N,) or (N, T). classes: the training ones, for test data."""
    x, y = _load(path, ("x", "y"))
    if x.ndim != 2 or y.ndim not in (1, 2):
        raise _err(path, f"arrays x {x.shape} and y {y.shape}: expected x 2-D (rows, features), "
                   "y (rows,) or (rows, targets)")
    if len(x) != len(y):
        raise _err(path, f"x has {len(x)} rows but y has {len(y)}")
    if x.size == 0:
        raise _err(path, f"array 'x' has shape {x.shape}: no rows or no input columns")
    inputs = [f"x{j}" for j in range(x.shape[1])]
    targets = ["y"] if y.ndim == 1 else [f"y{j}" for j in range(y.shape[1])]
    labels = lambda: [_label(v) for v in y.reshape(-1).tolist()]  # noqa: E731
    task = _task(path, task, classes, len(targets), lambda: None if y.dtype.kind == "f" else labels(), "y")
    xt = _tensor(path, "x", x, dtype)
    if task == "regression":
        return Table(xt, _tensor(path, "y", y, dtype).reshape(len(y), -1), inputs, targets, task, None)
    yt, classes = _encode(path, labels(), [f"y[{i}]" for i in range(len(y))], targets[0], classes)
    return Table(xt, yt, inputs, targets, task, classes)


def read_inputs(path, inputs, *, dtype=torch.float32) -> torch.Tensor:
    """Inputs for prediction, (N, len(inputs)): the named columns of a CSV (others are ignored),
    or a 2-D .npy array, or array "x" of an .npz archive, with one column per input."""
    inputs = list(inputs)
    if os.fspath(path).lower().endswith((".npy", ".npz")):
        (x,) = _load(path, ("x",))
        if x.ndim != 2 or x.shape[1] != len(inputs) or len(x) == 0:
            raise _err(path, f"array has shape {x.shape}, expected (rows, {len(inputs)}) for inputs {_names(inputs)}")
        return _tensor(path, "x", x, dtype)
    header, rows, lines = _read_csv(path)
    present = set(header)
    missing = [c for c in inputs if c not in present]
    if missing:
        raise _err(path, f"the network's input columns are missing: {_names(missing)}")
    return _numbers(path, header, rows, lines, inputs, dtype)
