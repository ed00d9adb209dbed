"""Which mistakes explain a student's outputs: the lab's answer with each catalogued mistake applied.

A Model is the reference computation with some mistakes (codes) and some accepted conventions built in.
The student's outputs on every case are compared with each model's; the models that match all cases
with the fewest codes explain them.  Two models with different codes that both match are not told apart
by the cases: then only the codes they share are named, and the text says which alternatives remain.
This is the "never guess" rule: a code is named only when every explanation the cases allow has it.
"""
import itertools
from dataclasses import dataclass

from .calls import close, describe, ratio


@dataclass(frozen=True)
class Model:
    codes: frozenset
    conventions: tuple
    predict: object  # case -> the expected output under this model (float64 tensor)
    hint: str = ""   # a non-catalogue finding this model stands for ("your J leaves out λ s")
    detail: str = ""  # which way of making its mistakes it is ("b is missing: u = W x")


@dataclass
class Finding:
    passed: bool
    mistakes: list
    conventions: list
    alternatives: list  # code sets that explain the outputs equally well, when more than one
    hint: str = ""
    model: object = None


def pick(flags):
    """The names whose condition holds: a model's codes (or the words of its detail) from its settings."""
    return [name for name, on in flags.items() if on]


def combine_flags(variants, size):
    """Every way to pick `size` variants of different codes and merge their settings (dicts of flags):
    (codes, flags, details).  variants: [(code, {flag: value}, detail)]; merges that set one flag twice
    are skipped."""
    for combo in itertools.combinations(variants, size):
        codes = [code for code, _, _ in combo]
        if len(set(codes)) < size:
            continue
        flags = {}
        for _, f, _ in combo:
            if set(f) & set(flags):
                break
            flags.update(f)
        else:
            yield frozenset(codes), flags, "; ".join(detail for _, _, detail in combo)


def match(models, outputs, tol, by_size=False):
    """The Finding for outputs [(case, got)].  models: in order of preference within a number of codes;
    by_size: they come by nondecreasing number of codes already (forward's hundreds of combinations),
    and are then made lazily, up to the first number of codes that some model matches."""
    if not by_size:
        models = sorted(models, key=lambda m: len(m.codes))  # stable: the given order within a size
    for size, group in itertools.groupby(models, key=lambda m: len(m.codes)):
        matched = [m for m in group if all(close(got, m.predict(case), tol) for case, got in outputs)]
        if not matched:
            continue
        matched.sort(key=lambda m: (bool(m.hint), len(m.conventions)))  # a plain finding before a hint
        sets = list(dict.fromkeys(m.codes for m in matched))
        best = matched[0]
        shared = frozenset.intersection(*sets)
        return Finding(passed=size == 0 and not best.hint, mistakes=ordered(shared), conventions=list(best.conventions),
                       alternatives=[ordered(s) for s in sets] if len(sets) > 1 else [], hint=best.hint, model=best)
    return Finding(False, [], [], [])


def ordered(codes):
    from .catalogue import MISTAKES
    return [c for c in MISTAKES if c in codes]


def differences(outputs, expect, label="output"):
    """Phrases for the cases whose output differs from expect(case): which is off and by how much, and
    a constant factor when one holds across all of them."""
    lines, ratios = [], []
    for case, got in outputs:
        want = expect(case)
        if close(got, want, 1e-6):
            continue
        lines.append(f"{case.name}: {label} {describe(got, want)}")
        ratios.append(ratio(got, want))
    if lines and all(r is not None for r in ratios) and max(ratios) - min(ratios) <= 1e-6 * max(1, abs(ratios[0])):
        lines.append(f"on every case that differs, your {label} is {ratios[0]:.6g} × the expected one")
    return lines
