#!/usr/bin/env python
"""Benchmark: reading a wide CSV (issue 22, item 10), against the old reader's quadratic step and
against numpy.loadtxt, in one run.

    .venv/bin/python bench/wide_table.py [--columns 100000] [--rows 30] [--old-columns 10000,20000]

The table: --columns numeric input columns named c0, c1, ... and a 0/1 label, --rows rows (100,000 x 30
is 20 MB, the size the issue timed at 277 s).  Printed:
  baremlp        baremlp.data.tables.from_csv(path, "label"): the whole read, parsing and checks
  numpy.loadtxt  the same file's numbers, as a peer (no names, no checks)
  old duplicates the old duplicate-name check, {c for c in header if header.count(c) > 1}, at the
                 --old-columns widths (it alone is quadratic: seconds at 20,000 columns), with the
                 time it would take at --columns extrapolated as (columns / width)²
Each is timed once after one untimed call (burn-in: imports, the file cache).
"""
import argparse
import os
import platform
import tempfile
import time

import numpy as np
import torch

from baremlp.data.tables import from_csv


def write_table(path, columns, rows, seed=0):
    """A CSV of `columns` numeric columns (one decimal) and a 0/1 label; returns its size in bytes."""
    values = np.random.default_rng(seed).integers(0, 1000, (rows, columns)) / 10
    with open(path, "w") as f:
        f.write(",".join(f"c{j}" for j in range(columns)) + ",label\n")
        for i, row in enumerate(values):
            f.write(",".join(map(str, row.tolist())) + f",{i % 2}\n")
    return os.path.getsize(path)


def timed(fn):
    fn()  # burn-in
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def old_duplicates(header):
    return sorted({c for c in header if header.count(c) > 1})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--columns", type=int, default=100_000)
    p.add_argument("--rows", type=int, default=30)
    p.add_argument("--old-columns", default="10000,20000")
    a = p.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "wide.csv")
        size = write_table(path, a.columns, a.rows)
        print(f"table: {a.columns:,} columns x {a.rows} rows, {size / 1e6:.1f} MB")
        t = from_csv(path, "label")
        assert t.x.shape == (a.rows, a.columns) and t.classes == ["0", "1"]
        ours = timed(lambda: from_csv(path, "label"))
        peer = timed(lambda: np.loadtxt(path, delimiter=",", skiprows=1))
    print(f"{'baremlp from_csv':<28}{ours:9.2f} s")
    print(f"{'numpy.loadtxt (peer)':<28}{peer:9.2f} s   baremlp / numpy = {ours / peer:.2f}")
    for width in map(int, a.old_columns.split(",")):
        header = [f"c{j}" for j in range(width)]
        old = timed(lambda: old_duplicates(header))
        print(f"{f'old duplicates, {width:,} columns':<28}{old:9.2f} s   at {a.columns:,} columns: "
              f"~{old * (a.columns / width) ** 2:,.0f} s (quadratic)")


if __name__ == "__main__":
    main()
