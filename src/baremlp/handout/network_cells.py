"""The starter's first half: the set-up, the equations, the forward pass by hand and in code, the loss,
the regularizer and cross-entropy (sections 1-4).  lab.py says what each kind of cell is."""
from .lab import Answer, Code, Md

SETUP = """
import torch
from baremlp import check, datasets
from baremlp.handout import torch_nn_used   # the lab's rule: no torch.nn, no torch.optim

torch.manual_seed(0)
R = datasets.R   # the rotation by +90°: [[0, −1], [1, 0]]


def written(fn):
    \"\"\"False while fn's TODO stands (its body still raises NotImplementedError).\"\"\"
    code = getattr(fn, "__code__", None)   # a lambda has one too; a callable object is taken as written
    return code is None or "NotImplementedError" not in code.co_names


def self_check(fn, run):
    \"\"\"Runs one of baremlp.check's checks on your function, or says that it is not written yet.\"\"\"
    if not written(fn):
        print(f"{fn.__name__}: not written yet (replace its TODO line, then run this cell again)")
    else:
        print(run(fn))
"""

CELLS = [
    Md("""
    # Lab 3: a 2-3-2 MLP with autograd

    You will write the lab's network yourself, piece by piece: the forward pass (first by hand), the
    loss and the regularizer, the gradients you derive, and the SGD step. Then a training loop that
    calls **your** functions trains the network on the rotation data, and you read the learned map
    W·M off the weights.

    How to work: run the cells top to bottom. Each cell marked **TODO** is yours: replace its
    `raise NotImplementedError(...)` line with your code. After each one a self-check cell runs
    `baremlp.check` on it: while the TODO stands it prints "not written yet"; once you have written
    it, it says "passed", or names your mistake and the line to change. Write the network with
    plain tensor operations (`@`, `torch.relu`, `.sum()`, ...): **no `torch.nn`, no `torch.optim`**.
    """),
    Code(SETUP),
    Md("""
    ## 1. The equations, with shapes

    Column convention: one sample x is a column vector.

    | step | equation | shapes |
    |---|---|---|
    | hidden pre-activation | u = W x + b | W (3, 2), x (2,), b (3,) → u (3,) |
    | hidden activation | h = ReLU(u) = max(u, 0), entry by entry | (3,) |
    | output | v = M h + c | M (2, 3), c (2,) → v (2,) |
    | loss of N samples | L = (1/N) Σₙ ‖vₙ − yₙ‖² | scalar |
    | regularizer | s = ‖W‖²_F + ‖M‖²_F (weights only) | scalar |
    | objective | J = L + λ s | scalar |

    In code the samples of a batch are the **rows** of X (N, 2), so the same equations read
    U = X Wᵀ + b, H = ReLU(U), V = H Mᵀ + c; that code works for one sample x (2,) too.
    """),
    Md("""
    ## 2. The forward pass by hand

    The network below has small whole-number weights. For the sample x = (−1, 1), compute u, h and v
    **with a pencil**, then type your numbers in. `check.by_hand` compares them with the lab's and,
    for the first one that differs, names the likely slip (the ReLU before the bias, a transposed W,
    a missing bias, ...).
    """),
    Code("""
    W_hand = [[1, 0], [0, 1], [1, 1]]   # (3, 2)
    b_hand = [0, 0, -0.5]               # (3,)
    M_hand = [[1, 0, 1], [0, 1, -1]]    # (2, 3)
    c_hand = [0, 0.5]                   # (2,)
    x_hand = [-1, 1]                    # (2,)
    """),
    Answer("by_hand", """
    # TODO: your hand-computed values, as lists of numbers
    u_hand = ...   # u = W x + b, 3 numbers
    h_hand = ...   # h = ReLU(u), 3 numbers
    v_hand = ...   # v = M h + c, 2 numbers
    """, """
    u_hand = [-1, 1, -0.5]
    h_hand = [0, 1, 0]
    v_hand = [0, 1.5]
    """),
    Code("""
    if any(t is ... for t in (u_hand, h_hand, v_hand)):
        print("by hand: not written yet (fill in u_hand, h_hand and v_hand)")
    else:
        print(check.by_hand(x_hand, W_hand, b_hand, M_hand, c_hand, u=u_hand, h=h_hand, v=v_hand))
    """),
    Md("""
    ## 3. The forward pass in code

    `forward(x, W, b, M, c)` returns v: for one sample x (2,) a vector (2,), for a batch X (N, 2) of
    rows a matrix (N, 2). W (3, 2), b (3,), M (2, 3), c (2,) as in section 1.
    """),
    Answer("forward", """
    def forward(x, W, b, M, c):
        # TODO: u = W x + b, h = ReLU(u), v = M h + c (for rows: U = X Wᵀ + b, V = H Mᵀ + c); return v
        raise NotImplementedError("TODO: forward")
    """, """
    def forward(x, W, b, M, c):
        u = x @ W.T + b        # (N, 3), or (3,) for one sample
        h = torch.relu(u)
        return h @ M.T + c     # (N, 2), or (2,)
    """),
    Code("""
    self_check(forward, check.forward)
    """),
    Md("""
    ## 4. The loss, the regularizer, and cross-entropy

    `loss(v, y)`: the MSE L = (1/N) Σₙ ‖vₙ − yₙ‖², the squared errors summed over the outputs and
    averaged over the samples; v, y (N, 2), or (2,) for one sample (then N = 1).

    `regularization(W, M)`: s = ‖W‖²_F + ‖M‖²_F, the squared Frobenius norms of the weights (not
    the biases).

    `cross_entropy(v, y)`: for classification, L = −(1/N) Σₙ log softmax(vₙ)[yₙ], v (N, K) raw
    outputs, y (N,) class indices.
    """),
    Answer("loss", """
    def loss(v, y):
        # TODO: L = (1/N) Σₙ ‖vₙ − yₙ‖²; one sample (vectors v, y) counts as N = 1
        raise NotImplementedError("TODO: loss")
    """, """
    def loss(v, y):
        V, Y = torch.atleast_2d(v), torch.atleast_2d(y)   # one sample: a batch of one row
        return ((V - Y) ** 2).sum() / len(V)
    """),
    Code("""
    self_check(loss, check.loss)
    """),
    Answer("regularization", """
    def regularization(W, M):
        # TODO: s = ‖W‖²_F + ‖M‖²_F
        raise NotImplementedError("TODO: regularization")
    """, """
    def regularization(W, M):
        return (W ** 2).sum() + (M ** 2).sum()
    """),
    Code("""
    self_check(regularization, check.regularization)
    """),
    Answer("cross_entropy", """
    def cross_entropy(v, y):
        # TODO: L = −(1/N) Σₙ log softmax(vₙ)[yₙ]; v (N, K) raw outputs, y (N,) class indices
        raise NotImplementedError("TODO: cross_entropy")
    """, """
    def cross_entropy(v, y):
        V = torch.atleast_2d(v)
        y = torch.as_tensor(y).reshape(-1).long()
        return -torch.log_softmax(V, dim=1)[torch.arange(len(V)), y].mean()
    """),
    Code("""
    self_check(cross_entropy, lambda fn: check.loss(fn, kind="cross_entropy"))
    """),
]
