"""A table file's bytes and, for a CSV, its rows: the delimiter, the header, a rectangular body.

The delimiter is the one the header line is split by, among ',', ';' and tab (csv.Sniffer restricted
to those three; a one-column header keeps ','): spreadsheets in many locales write ';', and
exports from databases write tabs.  Every step is linear in the cells: a table of 100,000 columns
is read in a second or two, not minutes (bench/wide_table.py).
"""
import csv
import io
import os
from collections import Counter

from ..errors import UsageError

DELIMITERS = ",;\t"
SHOWN = 20  # column names listed in a message at most


def err(path, message):
    return UsageError(f"{os.fspath(path)}: {message}")


def names(columns):
    """"'a', 'b'" for a message; a long list is cut after SHOWN names, with its length."""
    columns = list(columns)
    shown = ", ".join(repr(n) for n in columns[:SHOWN]) or "none"
    return shown + (f", … ({len(columns)} in all)" if len(columns) > SHOWN else "")


def read(path):
    """The file's bytes; one read serves both the CSV and the NumPy readers."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise err(path, "file not found") from None
    except OSError as e:
        raise err(path, f"cannot read: {e.strerror or e}") from None
    if not raw.strip():
        raise err(path, "empty file")
    return raw


def delimiter(text):
    """',', ';' or tab: the one that splits the first non-blank line (the header)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:  # no candidate in the header: one column
        return ","


def read_csv(path):
    """(header, data rows, their row numbers), once the file is known to be a rectangular table."""
    try:  # utf-8-sig: spreadsheets often start the file with a byte-order mark
        text = read(path).decode("utf-8-sig")
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text)))
    except UnicodeDecodeError:
        raise err(path, "cannot read: not UTF-8 text") from None
    except csv.Error as e:
        raise err(path, f"cannot read as CSV: {e}") from None
    # Blank lines are skipped but still counted, so row numbers match what an editor shows.
    numbered = [(n, [c.strip() for c in r]) for n, r in enumerate(records, 1) if any(c.strip() for c in r)]
    if not numbered:
        raise err(path, "empty file")
    (_, header), body = numbered[0], numbered[1:]
    if not body:
        raise err(path, "header only, no data rows")
    duplicates = sorted(c for c, k in Counter(header).items() if k > 1)  # one count, not header.count per column
    if duplicates:
        raise err(path, f"duplicate column names in the header: {names(duplicates)}")
    for n, row in body:
        if len(row) != len(header):
            raise err(path, f"row {n} has {len(row)} cells, the header has {len(header)}")
    return header, [r for _, r in body], [n for n, _ in body]
