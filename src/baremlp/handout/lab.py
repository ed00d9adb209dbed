"""The lab as an assignment, once: every cell of the starter, in order, with the answers and the graders' tests.

Each item of CELLS is one of

    Md(text)                          a markdown cell, in every notebook
    Code(text)                        given code, in every notebook
    Answer(question, stub, solution)  a cell the student writes: the stub (a TODO) for the starter, the
                                      solution for the graders' notebooks (otter's master, nbgrader's source)
    Written(question, prompt)         a written answer, graded by hand (the derivation, the discussion)
    Graded(question)                  where a question with tests only is graded (nothing in the starter)

and QUESTIONS gives each question its points and its tests (code that raises AssertionError, with the
checker's report as the message, when the answer is wrong; silent when it is right).  notebooks.py
renders the three notebooks from these lists, so that they cannot drift apart.

Stubs raise NotImplementedError("TODO ..."); the starter's `written(fn)` tells a stub from an answer by
that name in the function's code, so self-check cells print "not written yet" instead of failing.
"""
from dataclasses import dataclass, field
from textwrap import dedent


def clean(text):
    return dedent(text).strip("\n")


@dataclass
class Md:
    text: str


@dataclass
class Code:
    text: str


@dataclass
class Answer:
    question: str
    stub: str
    solution: str


@dataclass
class Written:
    question: str
    prompt: str
    answer: str = ""  # a model answer for the instructor (otter's solution, nbgrader's source)


@dataclass
class Graded:
    question: str  # a question with tests only (the training outcome, the rules): where the graders check it


@dataclass
class Question:
    name: str
    points: int
    title: str
    tests: list = field(default_factory=list)
    manual: bool = False


NAME = "lab3"  # the notebook's name in every folder, and the assignment's in nbgrader

# -- tests: each silent when right, an AssertionError carrying the checker's report when wrong ---------------

T_BY_HAND = """
report = check.by_hand(x_hand, W_hand, b_hand, M_hand, c_hand, u=u_hand, h=h_hand, v=v_hand)
assert report.passed, "\\n" + str(report)
"""
T_FORWARD = """
report = check.forward(forward)
assert report.passed, "\\n" + str(report)
"""
T_LOSS = """
report = check.loss(loss)
assert report.passed, "\\n" + str(report)
"""
T_CROSS_ENTROPY = """
report = check.loss(cross_entropy, kind="cross_entropy")
assert report.passed, "\\n" + str(report)
"""
T_REGULARIZATION = """
report = check.regularization(regularization)
assert report.passed, "\\n" + str(report)
"""
T_GRADIENTS = """
carried = check.all({"loss": loss, "regularization": regularization}).conventions  # a halved MSE changes J
report = check.gradients(gradients, conventions=carried)
assert report.passed, "\\n" + str(report)
"""
T_STEP = """
report = check.step(step)
assert report.passed, "\\n" + str(report)
"""
T_TRAINING = """
assert params is not None, "the training loop has not run: write forward, loss, regularization and step first"
A = (params[2] @ params[0]).detach()  # A = M W, column convention (the lab's W·M in row convention is Aᵀ)
error = (A - R).abs().max().item()
assert error < 0.05, f"after training, max |M W − R| = {error:.3g} (should be < 0.05):\\n{A}\\nagainst R =\\n{R}"
"""
T_RULES = """
used = torch_nn_used(globals())
assert not used, "the lab is written without torch.nn and torch.optim: " + "; ".join(used)
"""

QUESTIONS = [
    Question("by_hand", 2, "The forward pass by hand", [T_BY_HAND]),
    Question("forward", 2, "forward", [T_FORWARD]),
    Question("loss", 1, "loss (MSE)", [T_LOSS]),
    Question("regularization", 1, "regularization", [T_REGULARIZATION]),
    Question("cross_entropy", 1, "cross_entropy", [T_CROSS_ENTROPY]),
    Question("derivation", 3, "The derivation", manual=True),
    Question("gradients", 3, "gradients", [T_GRADIENTS]),
    Question("step", 2, "step", [T_STEP]),
    Question("training", 2, "Training: W·M ≈ R", [T_TRAINING]),
    Question("rules", 1, "No torch.nn, no torch.optim", [T_RULES]),
    Question("discussion", 2, "Discussion", manual=True),
]
BY_NAME = {q.name: q for q in QUESTIONS}
AUTOGRADED = [q.name for q in QUESTIONS if not q.manual]

SETUP = """
import torch
from baremlp import check, datasets
from baremlp.handout import torch_nn_used   # the lab's rule: no torch.nn, no torch.optim

torch.manual_seed(0)
R = datasets.R   # the rotation by +90°: [[0, −1], [1, 0]]


def written(fn):
    \"\"\"False while fn's TODO stands (its body still raises NotImplementedError).\"\"\"
    return "NotImplementedError" not in fn.__code__.co_names


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
    Md("""
    ## 5. The derivation

    Derive ∂J/∂v, ∂J/∂c, ∂J/∂M, ∂J/∂h, ∂J/∂u, ∂J/∂b and ∂J/∂W for one sample, with the shape of
    each, and then for a batch of N rows. Write it in the cell below (Markdown and LaTeX), or hand
    in your pages as your instructor says.
    """),
    Written("derivation", """
    *Your derivation here.*
    """, """
    One sample, J = ‖v − y‖² + λ (‖W‖²_F + ‖M‖²_F):
    δ_v = ∂J/∂v = 2 (v − y) (2,); ∂J/∂c = δ_v (2,); ∂J/∂M = δ_v hᵀ + 2λM (2, 3);
    ∂J/∂h = Mᵀ δ_v (3,); δ_u = ∂J/∂u = ∂J/∂h ⊙ 1[u > 0] (3,); ∂J/∂b = δ_u (3,); ∂J/∂W = δ_u xᵀ + 2λW (3, 2).
    A batch of N rows: δ_V = 2 (V − Y) / N (N, 2), ∂J/∂M = δ_Vᵀ H + 2λM, ∂J/∂c = Σₙ δ_V,n,
    δ_U = (δ_V M) ⊙ 1[U > 0], ∂J/∂W = δ_Uᵀ X + 2λW, ∂J/∂b = Σₙ δ_U,n.
    """),
    Md("""
    ## 6. The gradients in code

    `gradients(x, y, W, b, M, c, lam)` returns your derivation as a dict
    `{"W": dW, "b": db, "M": dM, "c": dc}`, each gradient with its parameter's shape, for
    J = L + λ s with your L above: for one sample x, y (2,), and for a batch of rows X, Y (N, 2).
    """),
    Answer("gradients", """
    def gradients(x, y, W, b, M, c, lam):
        # TODO: the forward pass, then δ_v, ∂J/∂c, ∂J/∂M, δ_u, ∂J/∂b, ∂J/∂W from your derivation
        raise NotImplementedError("TODO: gradients")
    """, """
    def gradients(x, y, W, b, M, c, lam):
        X, Y = torch.atleast_2d(x), torch.atleast_2d(y)   # one sample: a batch of one row
        U = X @ W.T + b
        H = torch.relu(U)
        V = H @ M.T + c
        dV = 2 * (V - Y) / len(X)                         # δ_v (N, 2)
        dU = (dV @ M) * (U > 0)                           # δ_u (N, 3)
        return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0),
                "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}
    """),
    Code("""
    self_check(gradients, check.gradients)
    """),
    Md("""
    ## 7. One SGD step

    `step(params, x, y, lr, lam)` takes one SGD step **in place** on `params = [W, b, M, c]` (leaf
    tensors with `requires_grad=True`), in the lab's words:

    1. forward: J = loss(forward(x, W, b, M, c), y) + lam · regularization(W, M), with your functions;
    2. backward: `J.backward()`;
    3. update, for every p in params: `p.data -= lr * p.grad`;
    4. zero the gradients: `p.grad.zero_()` (or the next `backward()` adds to them).
    """),
    Answer("step", """
    def step(params, x, y, lr, lam):
        W, b, M, c = params
        # TODO: forward (J with your loss and regularization), J.backward(), then for every p in params:
        #       p.data -= lr * p.grad and p.grad.zero_()
        raise NotImplementedError("TODO: step")
    """, """
    def step(params, x, y, lr, lam):
        W, b, M, c = params
        J = loss(forward(x, W, b, M, c), y) + lam * regularization(W, M)   # forward
        J.backward()                                                        # backward
        for p in params:
            p.data -= lr * p.grad                                           # update
            p.grad.zero_()                                                  # zero the gradients
    """),
    Code("""
    self_check(step, check.step)
    """),
    Md("""
    ## 8. The data

    `create_linear_data` (the name the lab's client.py gives it) draws inputs x ~ N(0, I₂), one
    sample a row, and targets y = R x, with R the rotation by +90°: y₁ = −x₂, y₂ = x₁. With
    `noise` > 0 it adds Gaussian noise to y. `init_params` starts the network as the lab does:
    weights 0.1 · N(0, 1), biases 0.
    """),
    Code("""
    def create_linear_data(n=1000, seed=0, noise=0.0):
        \"\"\"x (n, 2) ~ N(0, I₂); y (n, 2) = R x (+ noise · N(0, I₂)); each row is one sample.\"\"\"
        return datasets.linear(n, seed=seed, noise=noise)


    def init_params(seed=0):
        \"\"\"[W (3, 2), b (3,), M (2, 3), c (2,)]: leaf tensors with requires_grad=True.\"\"\"
        g = torch.Generator().manual_seed(seed)
        W = (0.1 * torch.randn(3, 2, generator=g)).requires_grad_()
        M = (0.1 * torch.randn(2, 3, generator=g)).requires_grad_()
        return [W, torch.zeros(3, requires_grad=True), M, torch.zeros(2, requires_grad=True)]


    x, y = create_linear_data(100, seed=0)
    print(tuple(x.shape), tuple(y.shape), " max |y − x Rᵀ| =", (y - x @ R.T).abs().max().item())
    """),
    Md("""
    ## 9. Training

    The lab's loop, per-sample SGD, calling **your** `step` (and through it your `forward`, `loss` and
    `regularization`): for each epoch, for each sample in a shuffled order, one step. λ is on for the
    first epochs only. 100 samples and 10 epochs keep it to a few seconds; the full lab
    (`baremlp train --dataset linear`) runs 1000 samples for 60 epochs and ends in the same place.
    """),
    Code("""
    lr, reg, reg_epochs, epochs = 0.04, 0.01, 3, 10
    params = None
    if all(written(fn) for fn in (forward, loss, regularization, step)):
        params = init_params(seed=0)
        order = torch.Generator().manual_seed(0)
        for epoch in range(epochs):
            lam = reg if epoch < reg_epochs else 0.0
            for i in torch.randperm(len(x), generator=order).tolist():
                step(params, x[i], y[i], lr, lam)        # forward, J.backward(), update, zero the gradients
            with torch.no_grad():
                print(f"epoch {epoch + 1:2d}: λ = {lam:g}, L = {float(loss(forward(x, *params), y)):.3g}")
    else:
        print("training: not written yet (it needs forward, loss, regularization and step)")
    """),
    Md("""
    ## 10. The learned map W·M

    When every ReLU is on, the network is the affine map v = (M W) x + (M b + c), so a perfect fit
    of y = R x forces the product of the weights to be R. **Which product**: in the column
    convention used here (u = W x + b, W (3, 2)), the map is A = M W, y ≈ A x. The lab writes it
    W·M, in the row convention (x a row, u = x W + b with W stored (2, 3)): there the product W·M is
    Aᵀ, and its target is Rᵀ. Both are printed below.
    """),
    Code("""
    if params is None:
        print("W·M: not written yet (train first)")
    else:
        W, b, M, c = (p.detach() for p in params)
        A = M @ W
        print("column convention, A = M W (y ≈ A x)        beside R:")
        for a_row, r_row in zip(A.tolist(), R.tolist()):
            print("   ", " ".join(f"{t:+.4f}" for t in a_row), "       ", " ".join(f"{t:+.0f}" for t in r_row))
        print("row convention (W stored (2, 3), M (3, 2)), the lab's W·M = Aᵀ   beside Rᵀ:")
        for a_row, r_row in zip(A.T.tolist(), R.T.tolist()):
            print("   ", " ".join(f"{t:+.4f}" for t in a_row), "       ", " ".join(f"{t:+.0f}" for t in r_row))
        print(f"max |M W − R| = {(A - R).abs().max().item():.2e}")
    """),
    Graded("training"),
    Md("""
    ## 11. Discussion

    How close is W·M to R, and why should it be? What do the ReLUs have to do with it (look at
    which hidden units are on for the data)? Why is λ switched off after the first epochs?
    """),
    Written("discussion", """
    *Your discussion here.*
    """, """
    M W equals R to about 10⁻³ or better. With every ReLU on (u > 0 on the data) the network is affine,
    v = (M W) x + (M b + c), and the only exact fit of y = R x on inputs that span the plane is
    M W = R, M b + c = 0. A unit that is off on part of the data makes the network piecewise linear
    there, and then M W need not equal R. With λ > 0 the best fit is shrunk, about (1 − λ) R, so λ is
    switched off once it has done its job (shrinking the weights of units that die).
    """),
    Md("""
    ## 12. Just for fun: noise, and does regularization help?

    Add noise to the targets and train with and without λ, then compare M W with R. (Not graded.
    A few epochs of one seed prove little: change the noise, λ, the epochs and the seed and see what
    holds. `baremlp experiment noise-vs-reg` runs this question properly: 2000 runs, with intervals.)
    """),
    Code("""
    if all(written(fn) for fn in (forward, loss, regularization, step)):
        x_noisy, y_noisy = create_linear_data(100, seed=1, noise=1.0)
        for lam_fun in (0.0, 0.1):
            p_fun = init_params(seed=0)
            for epoch in range(5):
                for i in range(len(x_noisy)):
                    step(p_fun, x_noisy[i], y_noisy[i], 0.02, lam_fun)
            A_fun = (p_fun[2] @ p_fun[0]).detach()
            print(f"noise 1.0, λ = {lam_fun:g}: max |M W − R| = {(A_fun - R).abs().max().item():.3f}")
    else:
        print("just for fun: not written yet (it needs forward, loss, regularization and step)")
    """),
    Graded("rules"),
    Md("""
    ## Before you hand it in

    `check.all` runs every check on the functions you wrote; `baremlp check` runs the same on your
    notebook exported as a .py file.
    """),
    Code("""
    mine = {name: fn for name, fn in globals().items()
            if name in ("forward", "loss", "cross_entropy", "regularization", "gradients", "step") and written(fn)}
    print(check.all(mine) if mine else "check.all: nothing written yet")
    """),
]
