"""Reads your own table into tensors for training, and new inputs for prediction.

CSV: a header row of column names, then one example per row. You name the target column(s);
every other column is an input, unless you choose the inputs (features) or leave columns out
(drop). Inputs and regression targets must be finite numbers; a class target may hold any
labels, numbered 0..K-1 in sorted order (numbers sorted as numbers).
NumPy .npz: array "x" (N, F) and array "y", (N,) or (N, T); integer or text y is read as class
labels, float y as regression targets. Files are read with the csv module and with
numpy.load(allow_pickle=False), so nothing in a file ever runs as code. Every problem is a
one-line UsageError (a ValueError) naming the file and, where it applies, the row (header = row 1) and column.
"""
import csv
import io
import math
import os
import re
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import UsageError

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


def _err(path, message):
    return UsageError(f"{os.fspath(path)}: {message}")


def _names(names):
    return ", ".join(repr(n) for n in names) or "none"


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _read(path):
    """The file's bytes; one read serves both the CSV and the NumPy readers."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise _err(path, "file not found") from None
    except OSError as e:
        raise _err(path, f"cannot read: {e.strerror or e}") from None
    if not raw.strip():
        raise _err(path, "empty file")
    return raw


def _read_csv(path):
    """(header, data rows, their row numbers), once the file is known to be a rectangular table."""
    try:  # utf-8-sig: spreadsheets often start the file with a byte-order mark
        records = list(csv.reader(io.StringIO(_read(path).decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError:
        raise _err(path, "cannot read: not UTF-8 text") from None
    except csv.Error as e:
        raise _err(path, f"cannot read as CSV: {e}") from None
    # Blank lines are skipped but still counted, so row numbers match what an editor shows.
    numbered = [(n, [c.strip() for c in r]) for n, r in enumerate(records, 1) if any(c.strip() for c in r)]
    if not numbered:
        raise _err(path, "empty file")
    (_, header), body = numbered[0], numbered[1:]
    if not body:
        raise _err(path, "header only, no data rows")
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise _err(path, f"duplicate column names in the header: {_names(duplicates)}")
    for n, row in body:
        if len(row) != len(header):
            raise _err(path, f"row {n} has {len(row)} cells, the header has {len(header)}")
    return header, [r for _, r in body], [n for n, _ in body]


def _numbers(path, header, rows, lines, columns, dtype, hint=lambda column: ""):
    """The named columns as an (N, len(columns)) tensor of finite numbers; hint(column) follows "not a number"."""
    index = [header.index(c) for c in columns]
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


def _task(path, task, classes, n_targets, labels):
    """labels: a function giving the single target's values as text, called only when inferring."""
    if task not in (None, *TASKS):
        raise _err(path, f"task must be 'regression' or 'classification', not {task!r}")
    if task is None and classes is not None:
        task = "classification"  # a training class list means the test data is labelled the same way
    elif task is None and n_targets == 1 and (values := labels()) is not None:
        # Text labels, or a few distinct integers, are classes; any other numbers are measurements.
        # Blank cells are left out: a missing measurement should be reported as such, not make text labels.
        values = [s for s in values if s]
        text = any(_number(s) is None for s in values)
        few_ints = all(_INT.fullmatch(s) for s in values) and len({int(s) for s in values}) <= MAX_CLASSES
        task = "classification" if text or few_ints else "regression"
    task = task or "regression"
    if task == "classification" and n_targets != 1:
        raise _err(path, f"classification needs exactly one target column, got {n_targets}")
    return task


def _canonical(label):
    return str(int(label)) if _INT.fullmatch(label) else label  # "07" and "+7" are class "7"


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
    missing = [n for n in names if n not in header]
    if missing:
        raise _err(path, f"no {what} column {_names(missing)}; the columns are {_names(header)}")
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
    rest = chosen or [c for c in header if c not in targets and c not in dropped]
    if inputs is not None:
        inputs = list(inputs)
        lacking, extra = [c for c in inputs if c not in rest], [c for c in rest if c not in inputs]
        if lacking or extra:
            raise _err(path, f"test data columns differ from training: missing {_names(lacking)}, "
                       f"unexpected {_names(extra)} (training inputs: {_names(inputs)})")
    inputs = rest if inputs is None else inputs
    if not inputs:
        raise _err(path, f"no input columns left: every column is a target ({_names(targets)})")
    j = header.index(targets[0])
    task = _task(path, task, classes, len(targets), lambda: [r[j] for r in rows])
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
    task = _task(path, task, classes, len(targets), lambda: None if y.dtype.kind == "f" else labels())
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
    missing = [c for c in inputs if c not in header]
    if missing:
        raise _err(path, f"the network's input columns are missing: {_names(missing)}")
    return _numbers(path, header, rows, lines, inputs, dtype)
