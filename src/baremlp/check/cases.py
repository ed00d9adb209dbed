"""The inputs every check tries: the hand-worked cases of docs/worked-examples.md first (the same
numbers), then seeded random ones.  All float64, column convention: W (3, 2), b (3,), M (2, 3), c (2,).

Random cases keep every hidden pre-activation at least MARGIN from ReLU's kink (so a mask, or its
absence, is unambiguous) and have some units off and some on (so that ReLU matters), with weights
drawn from N(0, 1): entries that are not 0 or ±1, unlike the worked network, so that |W| and W² differ.
"""
import torch

from baremlp.datasets import R

f64 = torch.float64
MARGIN = 0.2  # min |u| of a random case: far from the kink next to the comparison tolerance


def t(values):
    return torch.tensor(values, dtype=f64)


def worked_network():
    """The network of docs/worked-examples.md: small integers, so every step can be checked by hand."""
    return {"W": t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), "b": t([0.0, 0.0, -0.5]),
            "M": t([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]]), "c": t([0.0, 0.5])}


def reference(x, W, b, M, c):
    """v = M ReLU(W x + b) + c for x (2,) or X (N, 2) rows: (u, h, v) of the same layout."""
    u = x @ W.T + b
    h = torch.relu(u)
    return u, h, h @ M.T + c


def random_network(g):
    return {"W": torch.randn(3, 2, generator=g, dtype=f64), "b": 0.5 * torch.randn(3, generator=g, dtype=f64),
            "M": torch.randn(2, 3, generator=g, dtype=f64), "c": 0.5 * torch.randn(2, generator=g, dtype=f64)}


def random_sample(g, n=None):
    """(network, x): x (2,) (n None) or (n, 2); |u| ≥ MARGIN everywhere, some units off and some on, some
    outputs negative (for a ReLU on the output to show)."""
    while True:
        net = random_network(g)
        x = 1.5 * torch.randn(*((2,) if n is None else (n, 2)), generator=g, dtype=f64)
        u, h, v = reference(x, **net)
        if u.abs().min() >= MARGIN and (u < 0).any() and (u > 0).any() and (v < -0.1).any() \
                and v.abs().min() > 0.05 and (x < 0).any():
            return net, x


def forward_cases(seed=0):
    """[(name, inputs)]: singles (x (2,)) then batches (X (N, 2) rows); inputs = {x, W, b, M, c}."""
    net, g = worked_network(), torch.Generator().manual_seed(seed)
    singles = [("worked case 1", {"x": t([1.0, 2.0]), **net}),
               ("worked case 2", {"x": t([-1.0, 1.0]), **net})]
    for i in range(3):
        rnet, x = random_sample(g)
        singles.append((f"random {i + 1}", {"x": x, **rnet}))
    rnet, X = random_sample(g, 5)
    batches = [("worked case 3 (batch)", {"x": t([[1.0, 2.0], [-1.0, 1.0], [2.0, -1.0]]), **net}),
               ("random batch", {"x": X, **rnet})]
    return singles, batches


def gradient_cases(seed=1):
    """[(name, inputs)]: inputs = {x, y, W, b, M, c, lam}; singles x (2,), then batches X (N, 2)."""
    net, g = worked_network(), torch.Generator().manual_seed(seed)
    x1, x2 = t([1.0, 2.0]), t([-1.0, 1.0])
    singles = [("worked case 6", {"x": x1, "y": R.double() @ x1, **net, "lam": 0.0}),
               ("worked case 4 (λ = 0.1)", {"x": x1, "y": R.double() @ x1, **net, "lam": 0.1}),
               ("worked case 2 (λ = 0.1)", {"x": x2, "y": R.double() @ x2, **net, "lam": 0.1})]
    for i in range(2):
        rnet, x = random_sample(g)
        singles.append((f"random {i + 1}", {"x": x, "y": torch.randn(2, generator=g, dtype=f64), **rnet,
                                            "lam": 0.07}))
    X = t([[1.0, 2.0], [-1.0, 1.0], [2.0, -1.0]])
    rnet, XR = random_sample(g, 5)
    batches = [("worked case 3 (batch, λ = 0.1)", {"x": X, "y": X @ R.double().T, **net, "lam": 0.1}),
               ("random batch", {"x": XR, "y": torch.randn(5, 2, generator=g, dtype=f64), **rnet, "lam": 0.05})]
    return singles, batches


def mse_cases(seed=2):
    """[(name, {v, y})]: single samples (K,), then batches (N, K); one batch has K = 3 outputs, so that
    averaging over the outputs (÷K) and halving (÷2) tell apart."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *s: torch.randn(*s, generator=g, dtype=f64)  # noqa: E731
    V = t([[3.5, 0.0], [0.0, 1.5], [2.5, 0.0]])
    singles = [("worked case 4", {"v": t([3.5, 0.0]), "y": t([-2.0, 1.0])}),
               ("random 1", {"v": rnd(2), "y": rnd(2)})]
    batches = [("worked case 4 (batch of 3)", {"v": V, "y": t([[-2.0, 1.0], [-1.0, -1.0], [1.0, 2.0]])}),
               ("random batch", {"v": rnd(4, 2), "y": rnd(4, 2)}),
               ("random batch, 3 outputs", {"v": rnd(5, 3), "y": rnd(5, 3)})]
    return singles, batches


def ce_cases(seed=3):
    """[(name, {v, y})]: logits and class indices; singles v (K,), y a 0-dim index, then batches."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *s: 2 * torch.randn(*s, generator=g, dtype=f64)  # noqa: E731
    labels = lambda n, k: torch.randint(k, (n,), generator=g)  # noqa: E731
    singles = [("worked case 5", {"v": t([0.0, 1.5]), "y": torch.tensor(1)}),
               ("random 1", {"v": rnd(2), "y": torch.tensor(0)})]
    batches = [("random batch", {"v": rnd(4, 2), "y": labels(4, 2)}),
               ("random batch, positive logits", {"v": rnd(3, 2).abs() + 0.5, "y": labels(3, 2)}),
               ("random batch, 3 classes", {"v": rnd(5, 3), "y": labels(5, 3)}),
               # logits of a trained network can be large: exp(1000) overflows, and softmax(v)_y of 0 logs to −inf
               ("large logits", {"v": t([[1000.0, 998.0], [0.0, -800.0], [100.0, 101.0]]), "y": torch.tensor([0, 1, 1])})]
    return singles, batches


def reg_cases(seed=4):
    """[(name, {W, b, M, c})]: the worked network (entries 0 and ±1), then random ones."""
    g = torch.Generator().manual_seed(seed)
    cases = [("worked case 4", worked_network())]
    for i in range(3):
        cases.append((f"random {i + 1}", random_network(g)))
    return cases


def step_cases(seed=5):
    """(network, [(x, y)] × 2, lr, lam): the two SGD steps' samples, off the kink at both parameter points."""
    g = torch.Generator().manual_seed(seed)
    net, x = random_sample(g)
    x2 = x.clone()
    while True:
        x2 = 1.5 * torch.randn(2, generator=g, dtype=f64)
        if reference(x2, **net)[0].abs().min() >= MARGIN:
            break
    return net, [(x, torch.randn(2, generator=g, dtype=f64)), (x2, torch.randn(2, generator=g, dtype=f64))], 0.05, 0.1
