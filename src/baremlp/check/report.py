"""Report: what a check found, for a student (str), a notebook (_repr_html_) and a grader (to_dict).

    .passed       True when every case matches the lab's answer (conventions allowed)
    .mistakes     catalogue codes that explain the differences, [] when passed
    .conventions  accepted conventions seen, e.g. ["row-convention", "half-mse"]
    .cases        one Case per input tried: its inputs, the expected output and the student's
    .differences  when no code explains an output: which one is off and by how much
"""
import html
from dataclasses import dataclass, field

import torch

from .catalogue import CONVENTIONS, advice


@dataclass
class Case:
    """One input the student's function was called on: inputs by name, expected and the student's output."""
    name: str
    inputs: dict
    expected: object
    got: object = None
    ok: bool = False
    note: str = ""

    def to_dict(self):
        return {"name": self.name, "inputs": {k: plain(v) for k, v in self.inputs.items()},
                "expected": plain(self.expected), "got": plain(self.got), "ok": self.ok, "note": self.note}


def plain(value):
    """Tensors and dicts of tensors as lists and floats, for JSON."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def short(value, digits=4):
    """A tensor (or dict of them) in a few characters: [[1, 0], [0, 1]] with 4 significant digits."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {short(v, digits)}" for k, v in value.items())
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, list):
        return "[" + ", ".join(short(v, digits) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return "—" if value is None else str(value)


@dataclass
class Report:
    check: str
    passed: bool = False
    mistakes: list = field(default_factory=list)
    conventions: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    differences: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    error: str = ""
    parts: list = field(default_factory=list)  # check.all: one Report per function found

    def __bool__(self):
        return self.passed

    def headline(self):
        n = len(self.cases)
        if self.passed:
            return f"check.{self.check}: passed on {n} cases"
        if self.error:
            return f"check.{self.check}: your function failed: {self.error}"
        if self.mistakes:
            return f"check.{self.check}: {len(self.mistakes)} mistake{'s' * (len(self.mistakes) > 1)} found " \
                   f"({', '.join(self.mistakes)}) on {n} cases"
        return f"check.{self.check}: your outputs differ from the lab's, and no catalogued mistake explains them"

    def __str__(self):
        if self.parts:
            verdict = "all passed" if self.passed else f"mistakes: {', '.join(self.mistakes) or 'see below'}"
            return f"checked {', '.join(p.check for p in self.parts)}: {verdict}\n\n" + \
                "\n\n".join(str(p) for p in self.parts)
        lines = [self.headline()]
        for code in self.mistakes:
            lines += ["  " + line for line in advice(code).splitlines()]
        lines += [f"  {d}" for d in self.differences]
        if self.conventions:
            lines.append("  conventions accepted: " + "; ".join(f"{c} ({CONVENTIONS.get(c, c)})"
                                                                for c in self.conventions))
        lines += [f"  note: {n}" for n in self.notes]
        wrong = [c for c in self.cases if not c.ok]
        if wrong and (self.mistakes or self.differences):
            c = wrong[0]
            lines.append(f"  first case that differs, {c.name}: {short(c.inputs)}")
            lines.append(f"    expected {short(c.expected)}")
            lines.append(f"    yours    {short(c.got) if c.got is not None else c.note}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<Report check.{self.check}: {'passed' if self.passed else 'failed'}, mistakes={self.mistakes}>"

    def _repr_html_(self):
        if self.parts:
            return "".join(p._repr_html_() for p in self.parts)
        esc = html.escape
        head = f"<p><b>{esc(self.headline())}</b></p>"
        items = "".join(f"<li><code>{esc(code)}</code>: {esc(advice(code).split(': ', 1)[1])}</li>"
                        for code in self.mistakes)
        items += "".join(f"<li>{esc(d)}</li>" for d in self.differences)
        items += "".join(f"<li>convention accepted: <code>{esc(c)}</code></li>" for c in self.conventions)
        rows = "".join(f"<tr><td>{esc(c.name)}</td><td>{esc(short(c.inputs))}</td><td>{esc(short(c.expected))}</td>"
                       f"<td>{esc(short(c.got) if c.got is not None else c.note)}</td>"
                       f"<td>{'✓' if c.ok else '✗'}</td></tr>" for c in self.cases)
        table = ("<table><tr><th>case</th><th>inputs</th><th>expected</th><th>yours</th><th></th></tr>"
                 f"{rows}</table>")
        return head + (f"<ul>{items}</ul>" if items else "") + table

    def to_dict(self):
        d = {"check": self.check, "passed": self.passed, "mistakes": list(self.mistakes),
             "conventions": list(self.conventions), "differences": list(self.differences),
             "notes": list(self.notes), "error": self.error}
        if self.parts:
            d["checks"] = {p.check: p.to_dict() for p in self.parts}
        else:
            d["cases"] = [c.to_dict() for c in self.cases]
        return d


def combine(parts):
    """check.all's Report: passed when every part passed; mistakes and conventions in order, once each."""
    unique = lambda items: list(dict.fromkeys(items))  # noqa: E731
    return Report("all", passed=all(p.passed for p in parts) and bool(parts),
                  mistakes=unique(m for p in parts for m in p.mistakes),
                  conventions=unique(c for p in parts for c in p.conventions),
                  cases=[c for p in parts for c in p.cases], parts=list(parts))
