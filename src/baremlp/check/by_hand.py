"""check.by_hand: a forward pass worked by hand (the lab's in-lab checkoff), value by value.

    from baremlp import check
    check.by_hand([-1, 1], W, b, M, c, u=[-1, 1, -0.5], h=[0, 1, -0.5], v=[-0.5, 2])
    # by hand: u right; h wrong (relu-before-bias) ...

The student computes u = W x + b, h = ReLU(u) and v = M h + c for one sample with a pencil, and types
the numbers in.  by_hand computes the lab's values, and for the first one that differs (u, then h, then
v) it tries the slips a hand computation makes, each from the values before it that were right:

    u   no-bias (u = W x), bias-subtracted (u = W x − b), x-swapped (x₁ and x₂ exchanged),
        transposed-W (W's rows and columns exchanged: a u of the wrong length, or Wᵀ x when W is square)
    h   relu-before-bias (h = ReLU(W x) + b), no-relu (h = u, negatives kept),
        relu-backwards (h = min(u, 0): the positives zeroed)
    v   no-bias (v = M h), bias-subtracted, v-from-u (v = M u + c: the ReLU skipped), relu-on-output
        (v = ReLU(M h + c)), transposed-M (a v of the wrong length, or Mᵀ h when M is square)

A value agrees when each entry is within 0.005 of the lab's (hand values rounded to two decimals pass).
Column convention: W (hidden, inputs), M (outputs, hidden); W given as (inputs, hidden) with M as
(hidden, outputs), the row convention u = x W + b, is taken as such and named.
The slips here are hand slips, not the catalogue's codes of docs/check.md (those name code mistakes).
"""
from dataclasses import dataclass, field

import numpy as np

TOL = 0.005  # absolute: a hand value rounded to two decimals still agrees

SLIPS = {
    "no-bias": "a bias left out: {name} = {mat} {arg}; the right line is {name} = {mat} {arg} + {bias}",
    "bias-subtracted": "the bias subtracted: {name} = {mat} {arg} − {bias}; the right line is {name} = {mat} {arg} + {bias}",
    "x-swapped": "x's two entries exchanged (x₁ read as x₂): u = W (x₂, x₁) + b; keep x = (x₁, x₂) in order",
    "transposed-W": "W read transposed (its columns used as rows): u_i = Σ_j W_ij x_j, row i of W against x, "
                    "so u has one entry per hidden unit ({hidden})",
    "relu-before-bias": "the ReLU came before the bias: h = ReLU(W x) + b; the bias belongs inside, h = ReLU(W x + b)",
    "no-relu": "the ReLU left out: h = u keeps the negative entries; h = max(u, 0) entry by entry",
    "relu-backwards": "the ReLU backwards: h = min(u, 0) zeroes the positive entries; h = max(u, 0) keeps them",
    "v-from-u": "v computed from u instead of h (the ReLU skipped on the way out): v = M u + c; use v = M h + c",
    "relu-on-output": "a ReLU on the output: v = ReLU(M h + c); the outputs stay as they are, v = M h + c",
    "transposed-M": "M read transposed (its columns used as rows): v_k = Σ_j M_kj h_j, row k of M against h, "
                    "so v has one entry per output ({outputs})",
}


def vector(value, name):
    """A list, tuple, NumPy array or tensor as a flat float64 array; None stays None."""
    if value is None:
        return None
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().double().numpy()
    try:
        return np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"check.by_hand: {name} must be numbers (a list, an array or a tensor), not {value!r}") from None


def matrix(value, name):
    if hasattr(value, "detach"):
        value = value.detach().cpu().double().numpy()
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"check.by_hand: {name} must be a matrix of numbers, not {value!r}") from None
    if a.ndim != 2:
        raise ValueError(f"check.by_hand: {name} must be a matrix (2 dimensions), not of shape {a.shape}")
    return a


def fmt(a):
    return "—" if a is None else "(" + ", ".join(f"{t:g}" for t in np.round(a, 4)) + ")"


def agrees(got, expected):
    return got is not None and got.shape == expected.shape and bool(np.all(np.abs(got - expected) <= TOL))


@dataclass
class HandCheck:
    """What check.by_hand found: .passed, .first_wrong ("u", "h", "v" or None), .slip (a key of SLIPS or
    None), .expected and .got ({name: array}), .convention, .lines (the report, one finding a line)."""
    passed: bool
    first_wrong: object = None
    slip: object = None
    expected: dict = field(default_factory=dict)
    got: dict = field(default_factory=dict)
    convention: str = "column"
    lines: list = field(default_factory=list)

    def __bool__(self):
        return self.passed

    def __str__(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return f"<HandCheck {'passed' if self.passed else f'{self.first_wrong} wrong'}, slip={self.slip}>"

    def to_dict(self):
        return {"check": "by_hand", "passed": self.passed, "first_wrong": self.first_wrong, "slip": self.slip,
                "convention": self.convention, "expected": {k: v.tolist() for k, v in self.expected.items()},
                "got": {k: (None if v is None else v.tolist()) for k, v in self.got.items()}, "report": str(self)}


def candidates(name, x, W, b, M, c, u, h):
    """{slip: the value that slip gives} for the value `name`, from the lab's (right) earlier values."""
    relu = lambda t: np.maximum(t, 0)  # noqa: E731
    if name == "u":
        out = {"no-bias": W @ x, "bias-subtracted": W @ x - b, "x-swapped": W @ x[::-1] + b}
        if W.shape[0] == W.shape[1]:
            out["transposed-W"] = W.T @ x + b
        return out
    if name == "h":
        return {"relu-before-bias": relu(W @ x) + b, "no-relu": u, "relu-backwards": np.minimum(u, 0)}
    out = {"no-bias": M @ h, "bias-subtracted": M @ h - c, "v-from-u": M @ u + c, "relu-on-output": relu(M @ h + c)}
    if M.shape[0] == M.shape[1]:
        out["transposed-M"] = M.T @ h + c
    return out


def by_hand(x, W, b, M, c, *, u=None, h=None, v=None):
    """Your hand-computed u, h, v for one sample x against the lab's; any may be left out (None).
    Returns a HandCheck: print it for the report; .passed, .first_wrong, .slip for a test."""
    x, b, c = vector(x, "x"), vector(b, "b"), vector(c, "c")
    W, M = matrix(W, "W"), matrix(M, "M")
    convention = "column"
    if W.shape != (len(b), len(x)) and W.shape == (len(x), len(b)) and M.shape == (len(b), len(c)):
        W, M, convention = W.T, M.T, "row"  # the row convention's (fan_in, fan_out) weights
    if W.shape != (len(b), len(x)):
        raise ValueError(f"check.by_hand: W has shape {W.shape}, but x has {len(x)} entries and b {len(b)}: "
                         f"W must be ({len(b)}, {len(x)}) (column convention, u = W x + b)")
    if M.shape != (len(c), len(b)):
        raise ValueError(f"check.by_hand: M has shape {M.shape}, but b has {len(b)} entries and c {len(c)}: "
                         f"M must be ({len(c)}, {len(b)}) (column convention, v = M h + c)")
    yours = {"u": vector(u, "u"), "h": vector(h, "h"), "v": vector(v, "v")}
    if all(t is None for t in yours.values()):
        raise ValueError("check.by_hand: give at least one of u=, h=, v= (your hand-computed values)")
    eu = W @ x + b
    eh = np.maximum(eu, 0)
    ev = M @ eh + c
    expected = {"u": eu, "h": eh, "v": ev}
    given = [k for k in "uhv" if yours[k] is not None]
    result = HandCheck(passed=True, expected=expected, got=yours, convention=convention)
    head = f"check.by_hand on x = {fmt(x)}" + (" (row convention: u = x W + b, W given as (inputs, hidden))"
                                                if convention == "row" else "")
    lines = [head]
    for name in given:
        got, want = yours[name], expected[name]
        if agrees(got, want):
            lines.append(f"  {name} = {fmt(got)}  right")
            continue
        result.passed, result.first_wrong = False, name
        lines.append(f"  {name} = {fmt(got)}  WRONG: the lab's {name} = {fmt(want)}")
        slip = None
        for code, value in candidates(name, x, W, b, M, c, eu, eh).items():
            if agrees(got, value):
                slip = code
                break
        if slip is None and len(got) != len(want) and name in ("u", "v"):
            slip = "transposed-W" if name == "u" else "transposed-M"
        if slip:
            text = SLIPS[slip].format(name=name, mat="W" if name == "u" else "M", arg="x" if name == "u" else "h",
                                      bias="b" if name == "u" else "c", hidden=len(b), outputs=len(c))
            lines.append(f"  likely slip ({slip}): {text}")
        elif len(got) == len(want):
            off = [i for i in range(len(want)) if abs(got[i] - want[i]) > TOL]
            rows = {"u": "row {i} of W times x, plus b_{i}", "h": "max(u_{i}, 0)", "v": "row {i} of M times h, plus c_{i}"}
            lines.append("  no common slip gives your numbers: an arithmetic slip in entr"
                         f"{'y' if len(off) == 1 else 'ies'} {', '.join(str(i + 1) for i in off)}; redo "
                         + "; ".join(rows[name].format(i=i + 1) for i in off))
        else:
            lines.append(f"  your {name} has {len(got)} entries, the lab's {len(want)}")
        result.slip = slip
        later = [k for k in given if "uhv".index(k) > "uhv".index(name)]
        if later:
            follow = consistent(name, yours, W, b, M, c)
            lines.append(f"  ({', '.join(later)} not judged: {'it follows' if len(later) == 1 else 'they follow'} from {name}"
                         + (f"; your {follow} follow{'s' if len(follow) == 1 else ''} from your {name} correctly, "
                            f"so fixing {name} fixes {'it' if len(follow) == 1 else 'them'})" if follow else ")"))
        break
    if result.passed:
        lines.append(f"  all {len(given)} right" if len(given) > 1 else "  right")
    result.lines = lines
    return result


def consistent(name, yours, W, b, M, c):
    """The later values the student derived correctly from their own (wrong) value `name`, as a word."""
    u, h, v = yours["u"], yours["h"], yours["v"]
    good = []
    if name == "u" and u is not None and h is not None and agrees(h, np.maximum(u, 0)):
        good.append("h")
        if v is not None and len(h) == M.shape[1] and agrees(v, M @ h + c):
            good.append("v")
    if name == "h" and h is not None and v is not None and len(h) == M.shape[1] and agrees(v, M @ h + c):
        good.append("v")
    return " and ".join(good)
