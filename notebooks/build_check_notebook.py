"""Writes notebooks/check_your_work.ipynb from the cells below, executes it and saves it with outputs.

    .venv/bin/python notebooks/build_check_notebook.py

Edit the notebook here, not in Jupyter, then rerun this script: the cells are listed in order as
("md", text) or ("code", text).  Execution takes a few seconds.
"""
from pathlib import Path

from notebook_builder import write_executed  # beside this file

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "check_your_work.ipynb"

CELLS = [
    ("md", """
    # Check your own work with `baremlp.check`

    You have written the lab's network yourself. Before you train it, check each piece against the
    lab's answers: `baremlp.check` runs your function on the hand-worked cases of
    `docs/worked-examples.md` and on random ones, and when an answer differs it names the mistake,
    with the line to change.

    Below, a student's cells with a bug planted in each of three functions: the forward pass, the
    gradients and the SGD step. Each is checked, the report read, the line fixed, and checked again.
    `docs/check.md` lists every mistake the checker knows.
    """),
    ("code", """
    import torch
    from baremlp import check
    """),
    ("md", """
    ## 1. The forward pass

    The 2-3-2 network, column convention: u = W x + b with W (3, 2), h = ReLU(u), v = M h + c with
    M (2, 3). The samples of a batch are the rows of X (N, 2), so the same equations read
    U = X Wᵀ + b, V = ReLU(U) Mᵀ + c, and that code works for one sample x (2,) too.
    """),
    ("code", """
    def forward(x, W, b, M, c):
        u = x @ W.T
        h = torch.relu(u)
        return h @ M.T + c

    report = check.forward(forward)
    print(report)
    """),
    ("md", """
    The report names `no-bias`, and its note says which bias: b is missing, u = W x. On worked case 1,
    x = (1, 2), the lab's v is (3.5, 0) and this function gives (4, −0.5). The fix is the line it
    shows:
    """),
    ("code", """
    def forward(x, W, b, M, c):
        u = x @ W.T + b
        h = torch.relu(u)
        return h @ M.T + c

    report = check.forward(forward)
    print(report)
    assert report.passed
    """),
    ("md", """
    In Jupyter a report is also a table of every case it tried: the inputs, the expected output,
    yours, and whether they agree.
    """),
    ("code", """
    report
    """),
    ("md", """
    ## 2. The gradients, derived by hand

    For one sample and J = ‖v − y‖² + λ (‖W‖²_F + ‖M‖²_F): δ_v = 2 (v − y), ∂J/∂c = δ_v,
    ∂J/∂M = δ_v hᵀ + 2λM, δ_u = (Mᵀ δ_v) ⊙ 1[u > 0], ∂J/∂b = δ_u, ∂J/∂W = δ_u xᵀ + 2λW. For a batch
    of rows, δ_V = 2 (V − Y) / N, and the weight and bias gradients sum over the samples.
    The checker compares each parameter's gradient with autograd's.
    """),
    ("code", """
    def gradients(x, y, W, b, M, c, lam):
        X, Y = torch.atleast_2d(x), torch.atleast_2d(y)     # one sample is a batch of one row
        U = X @ W.T + b
        H = torch.relu(U)
        V = H @ M.T + c
        dV = 2 * (V - Y) / len(X)
        dU = dV @ M
        return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0),
                "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}

    report = check.gradients(gradients)
    print(report)
    """),
    ("md", """
    `grad-relu-mask-missing`, in ∂J/∂W and ∂J/∂b only: ∂J/∂M and ∂J/∂c are right, so the mistake lies
    between v and u. A unit that is off (u < 0) must pass nothing back:
    """),
    ("code", """
    def gradients(x, y, W, b, M, c, lam):
        X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
        U = X @ W.T + b
        H = torch.relu(U)
        V = H @ M.T + c
        dV = 2 * (V - Y) / len(X)
        dU = (dV @ M) * (U > 0)
        return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0),
                "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}

    report = check.gradients(gradients)
    print(report)
    assert report.passed
    """),
    ("md", """
    ## 3. The SGD step

    The lab's loop body: the forward pass and J, `J.backward()`, then p ← p − lr ∂J/∂p for every
    parameter, in place. The checker calls the step twice and compares with two true SGD steps.
    """),
    ("code", """
    def step(params, x, y, lr, lam):
        W, b, M, c = params
        v = M @ torch.relu(W @ x + b) + c
        J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
        J.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad

    report = check.step(step)
    print(report)
    """),
    ("md", """
    The first step was right; the second used the sum of both steps' gradients, because `backward()`
    adds to `.grad`. Clear them after each update:
    """),
    ("code", """
    def step(params, x, y, lr, lam):
        W, b, M, c = params
        v = M @ torch.relu(W @ x + b) + c
        J = ((v - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
        J.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None

    report = check.step(step)
    print(report)
    assert report.passed
    """),
    ("md", """
    ## 4. Everything at once

    `check.all(globals())` checks whichever of `forward`, `loss`, `regularization`, `gradients` and
    `step` this notebook defines. The loss and the regularizer are still to be written:
    """),
    ("code", """
    def loss(v, y):
        v, y = torch.atleast_2d(v), torch.atleast_2d(y)
        return ((v - y) ** 2).sum() / len(v)

    def regularization(W, M):
        return (W ** 2).sum() + (M ** 2).sum()

    report = check.all(globals())
    print(report.parts and [(part.check, part.passed) for part in report.parts])
    print(str(report).splitlines()[0])
    assert report.passed
    """),
    ("md", """
    Before you hand in, check the whole notebook as your instructor will: `baremlp check my_lab.ipynb`
    (or a `.py` file) runs it cell by cell in a kernel of its own, then judges each lab function from
    outside it: passed, failed (with its codes), missing, rebound (a later cell reused the name), raised
    or timed out. It also lists any use of `torch.nn` or `torch.optim`, and your points; exit status 0
    when everything passed, 1 when not; `--json` for a grader. See docs/check.md.
    """),
]



if __name__ == "__main__":
    write_executed(CELLS, NOTEBOOK, timeout=120)
