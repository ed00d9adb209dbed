"""Writes notebooks/mlp_with_autograd.ipynb from the cells below, executes it and saves it with outputs.

    .venv/bin/python notebooks/build_notebook.py

Edit the notebook here, not in Jupyter, then rerun this script: the cells are listed in order as
("md", text) or ("code", text).  Execution takes well under a minute on a 2-core CPU.
"""
from pathlib import Path

from notebook_builder import write_executed  # beside this file

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "mlp_with_autograd.ipynb"

CELLS = [
    ("md", """
    # A 2-3-2 MLP with autograd: the lab, worked through

    The lab's network is a multi-layer perceptron with 2 inputs, 3 ReLU hidden units and 2 outputs.
    Here it is trained on the rotation data y = R x, and then the learned map is read off the weights.
    `baremlp` builds the network from bare tensor ops. Autograd computes the gradients, and the SGD
    update is written out by hand.

    1. The equations, with shapes
    2. The worked examples, checked against the code
    3. One sample, one SGD step
    4. The backward three ways: by the equations, by the manual engine, by autograd
    5. The training loop, written out
    6. Training on the rotation data
    7. The loss and M W over the epochs
    8. The effective map `W*M`, and a discussion

    To regenerate this notebook, run `.venv/bin/python notebooks/build_notebook.py`.
    """),
    ("code", """
    import matplotlib.pyplot as plt
    import torch

    import baremlp
    from baremlp import MLP, analysis, datasets
    from baremlp.runs import Settings
    from baremlp.sgd import epoch_order

    torch.manual_seed(0)  # for reproducibility; every cell below also passes its own seed
    f64 = torch.float64
    R = datasets.R        # the rotation by +90°: [[0, −1], [1, 0]]
    """),
    ("md", """
    ## 1. The equations, with shapes

    **Column convention.** One sample x is a column vector. For the 2-3-2 network:

    | step | equation | shapes |
    |---|---|---|
    | hidden pre-activation | u = W x + b | W (3, 2), x (2,), b (3,) → u (3,) |
    | hidden activation | h = ReLU(u) = max(u, 0), elementwise | (3,) |
    | output | v = M h + c | M (2, 3), c (2,) → v (2,) |
    | loss of one sample | ‖v − y‖² = Σₖ (vₖ − yₖ)² | scalar |
    | loss of N samples | L = (1/N) Σₙ ‖vₙ − yₙ‖² | scalar |
    | objective | J = L + λ (‖W‖²_F + ‖M‖²_F) | scalar |

    Here ‖W‖²_F = Σᵢⱼ Wᵢⱼ² is the squared Frobenius norm. The biases are not regularised.
    A gradient ∂J/∂T always has the shape of T.

    **Batch-first form (what the code runs).** A batch of N samples is a matrix X of shape (N, 2),
    and its rows are the samples. Transposing u = W x + b row by row gives

    U = X Wᵀ + b  (N, 3),  H = ReLU(U)  (N, 3),  V = H Mᵀ + c  (N, 2).

    b and c are added to every row (broadcasting). The weights keep their (fan_out, fan_in) shapes in
    both forms. Only the way they are applied changes. `docs/derivation.md` derives the backward pass
    by hand.
    """),
    ("code", """
    net = MLP([2, 3, 2], seed=0)
    W, b, M, c = net.parameters   # leaf tensors, requires_grad=True
    print({name: tuple(p.shape) for name, p in zip("WbMc", net.parameters)})
    print(tuple(net(torch.zeros(5, 2)).shape), "= (N, 2) for a batch X of shape (5, 2)")
    """),
    ("md", """
    ## 2. The worked examples, checked against the code

    `docs/worked-examples.md` works three forward passes by hand on a network with small integer
    weights. Here the same weights go into an `MLP`, and the code must give the same numbers. The
    network uses float64, so these numbers are exact and each check is an exact `==`.
    """),
    ("code", """
    net = MLP([2, 3, 2], dtype=f64)
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=f64)
    b = torch.tensor([0.0, 0.0, -0.5], dtype=f64)
    M = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]], dtype=f64)
    c = torch.tensor([0.0, 0.5], dtype=f64)
    net.load_state_dict({"W0": W, "b0": b, "W1": M, "b1": c})
    """),
    ("code", """
    # Case 1: x = (1, 2), every ReLU active
    x1 = torch.tensor([[1.0, 2.0]], dtype=f64)        # one sample as a batch of one row
    u1, v1 = net.hidden(x1)[0], net(x1)
    print("u =", u1.tolist(), "  v =", v1.tolist())
    assert u1.tolist() == [[1.0, 2.0, 2.5]]
    assert v1.tolist() == [[3.5, 0.0]]
    # all ReLUs on, so the network is affine here: v = (M W) x + (M b + c)
    assert (M @ W).tolist() == [[2.0, 1.0], [-1.0, 0.0]]
    assert (M @ W @ x1[0] + M @ b + c).tolist() == [3.5, 0.0]
    """),
    ("code", """
    # Case 2: x = (−1, 1), units 1 and 3 cut off by the ReLU
    x2 = torch.tensor([[-1.0, 1.0]], dtype=f64)
    u2, v2 = net.hidden(x2)[0], net(x2)
    print("u =", u2.tolist(), "  v =", v2.tolist())
    assert u2.tolist() == [[-1.0, 1.0, -0.5]]
    assert v2.tolist() == [[0.0, 1.5]]
    # the affine shortcut fails here: (M W) x + M b + c = (−1.5, 2) ≠ v
    assert (M @ W @ x2[0] + M @ b + c).tolist() == [-1.5, 2.0]
    """),
    ("code", """
    # Case 3: a batch of three samples, batch first: U = X Wᵀ + b, V = H Mᵀ + c
    X = torch.tensor([[1.0, 2.0], [-1.0, 1.0], [2.0, -1.0]], dtype=f64)
    U, V = net.hidden(X)[0], net(X)
    print("U =", U.tolist())
    print("V =", V.tolist())
    assert U.tolist() == [[1.0, 2.0, 2.5], [-1.0, 1.0, -0.5], [2.0, -1.0, 0.5]]
    assert V.tolist() == [[3.5, 0.0], [0.0, 1.5], [2.5, 0.0]]
    print("cases 1-3 match docs/worked-examples.md")
    """),
    ("md", """
    ## 3. One sample, one SGD step

    This is cases 4 and 6 of the worked examples. The sample is x = (1, 2), with target
    y = R x = (−2, 1) and λ = 0.1. The forward pass gives J = 32.05. Then `J.backward()` stores
    ∂J/∂p in `p.grad` for every parameter p. For the weights this is case 6's gradient plus 2λW.
    The SGD step is p ← p − lr · ∂J/∂p, with lr = 0.01, and it must lower J.
    """),
    ("code", """
    W, b, M, c = net.parameters      # the network's own leaf tensors, still holding the weights above
    x, y = torch.tensor([1.0, 2.0], dtype=f64), torch.tensor([-2.0, 1.0], dtype=f64)
    lam, lr = 0.1, 0.01

    def objective():                 # column form, one sample
        v = M @ torch.relu(W @ x + b) + c
        return ((v - y) ** 2).sum() + lam * ((W * W).sum() + (M * M).sum())

    J = objective()                  # forward
    J.backward()                     # backward
    print(f"J before the step = {J.item():.4f}")
    assert J.item() == 32.05
    assert c.grad.tolist() == [11.0, -2.0]
    assert torch.allclose(W.grad, torch.tensor([[11.0, 22.0], [-2.0, -4.0], [13.0, 26.0]], dtype=f64) + 2 * lam * W)

    with torch.no_grad():            # update (sgd)
        for p in (W, b, M, c):
            p -= lr * p.grad
            p.grad = None
    print("c after the step =", [round(t, 6) for t in c.tolist()], " (worked example: (−0.11, 0.52))")
    J_after = objective().item()
    print(f"J after the step  = {J_after:.4f}")
    assert J_after < J.item()
    """),
    ("md", """
    ## 4. The backward three ways: by the equations, by the manual engine, by autograd

    The same sample and network as in section 3, before its step: x = (1, 2), y = (−2, 1), λ = 0.1.
    Here ∂J/∂p is computed three ways, and the three must agree.

    1. **By the equations** of `docs/derivation.md` §3, typed in as tensor code in column form:
       δ_v = 2 (v − y), ∂J/∂c = δ_v, ∂J/∂M = δ_v hᵀ + 2λM, ∂J/∂h = Mᵀ δ_v, δ_u = ∂J/∂h ⊙ 1[u > 0],
       ∂J/∂b = δ_u, ∂J/∂W = δ_u xᵀ + 2λW.
    2. **By the manual engine**, `baremlp.backprop.gradients`: every op of the network (`Linear`,
       `ReLU`, `MSELoss`, ...) has a `backward` that computes its equation, and the engine calls them
       from the last op to the first. No autograd is involved (it runs with gradients switched off).
       This is what `baremlp train --engine manual` trains with.
    3. **By autograd**: `torch.autograd.grad(J, params)`, which is what `J.backward()` computes.
    """),
    ("code", """
    from baremlp import ops
    from baremlp.backprop import gradients

    worked = {"W0": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "b0": [0.0, 0.0, -0.5],
              "W1": [[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]], "b1": [0.0, 0.5]}
    net = MLP([2, 3, 2], dtype=f64)
    net.load_state_dict({k: torch.tensor(v, dtype=f64) for k, v in worked.items()})
    W, b, M, c = (p.detach() for p in net.parameters)
    x, y, lam = torch.tensor([1.0, 2.0], dtype=f64), torch.tensor([-2.0, 1.0], dtype=f64), 0.1

    # 1. by the equations (derivation.md §3), one sample as a column
    u = W @ x + b                                # (3,)
    h = torch.relu(u)                            # (3,)
    v = M @ h + c                                # (2,)
    delta_v = 2 * (v - y)                        # ∂J/∂v  (2,)
    dc = delta_v                                 # (2,)
    dM = torch.outer(delta_v, h) + 2 * lam * M   # (2, 3)
    dh = M.T @ delta_v                           # (3,)
    delta_u = dh * (u > 0)                       # ∂J/∂u  (3,)
    db = delta_u                                 # (3,)
    dW = torch.outer(delta_u, x) + 2 * lam * W   # (3, 2)
    by_equations = [dW, db, dM, dc]

    # 2. by the manual engine: each op's backward, from the loss back to the first Linear
    J_manual, by_manual = gradients(net, x[None], y[None], reg=lam)   # x[None]: a batch of one row

    # 3. by autograd
    J = ops.objective(ops.MSELoss(), net(x[None]), y[None], net.weights, lam)
    by_autograd = torch.autograd.grad(J, net.parameters)

    print(f"J = {J_manual.item():.2f} (manual engine), {J.item():.2f} (autograd)")
    print(f"{'':8}{'by the equations':>24}{'by the manual engine':>24}{'by autograd':>24}")
    for name, trio in zip(["∂J/∂W", "∂J/∂b", "∂J/∂M", "∂J/∂c"], zip(by_equations, by_manual, by_autograd)):
        rows = [t.reshape(len(t), -1).tolist() for t in trio]   # a vector as a column of rows
        for i in range(len(rows[0])):
            cells = ["[" + ", ".join(f"{e:5.1f}" for e in r[i]) + "]" for r in rows]
            print(f"{name if i == 0 else '':8}{cells[0]:>24}{cells[1]:>24}{cells[2]:>24}")
        assert all(torch.allclose(t, trio[2], rtol=0, atol=1e-12) for t in trio)
    print("the three agree")
    """),
    ("md", """
    ## 5. The training loop, written out

    The rotation data has 1000 samples, with x ~ N(0, I₂) and y = R x. The parameters are plain leaf
    tensors with `requires_grad=True`, and they start as in `MLP([2, 3, 2], seed=0)`: weights are
    0.1 · N(0, 1) and biases are 0. Every epoch visits the samples in a shuffled order.
    `epoch_order(n, seed, epoch)` is the library's permutation, so the loops below take exactly the
    same steps as `baremlp.train`. λ applies only in the first `reg_epochs` epochs.

    The first loop is per-sample SGD (the lab's). A single sample is a vector, so the code reads
    like the column-form equations. The loops here run 3 epochs to stay quick. Section 6 runs all 60.
    """),
    ("code", """
    x, y = datasets.linear(1000, seed=0)     # x: (1000, 2); y = x Rᵀ, each row is R x; float32
    print(tuple(x.shape), tuple(y.shape), " max |y − x Rᵀ| =", (y - x @ R.T).abs().max().item())

    def init_params(seed=0):
        \"\"\"W (3, 2), b (3,), M (2, 3), c (2,): the same start as MLP([2, 3, 2], seed=seed).\"\"\"
        g = torch.Generator().manual_seed(seed)
        W = (torch.randn(3, 2, generator=g, dtype=f64) * 0.1).float().requires_grad_()
        M = (torch.randn(2, 3, generator=g, dtype=f64) * 0.1).float().requires_grad_()
        b = torch.zeros(3, requires_grad=True)
        c = torch.zeros(2, requires_grad=True)
        return W, b, M, c

    lr, reg, reg_epochs, epochs = 0.04, 0.01, 20, 3
    """),
    ("code", """
    W, b, M, c = init_params(seed=0)
    for epoch in range(epochs):
        lam = reg if epoch < reg_epochs else 0.0
        total = 0.0
        for i in epoch_order(len(x), 0, epoch).tolist():
            xi, yi = x[i], y[i]                  # one sample: x (2,), y (2,)
            # forward
            u = W @ xi + b                       # (3,)
            h = torch.relu(u)                    # (3,)
            v = M @ h + c                        # (2,)
            J = ((v - yi) ** 2).sum() + lam * ((W * W).sum() + (M * M).sum())
            # backward
            J.backward()                         # W.grad, b.grad, M.grad, c.grad = ∂J/∂p
            # update (sgd)
            with torch.no_grad():                # autograd must not record the update itself
                for p in (W, b, M, c):
                    p -= lr * p.grad
                    p.grad = None                # clear it, or the next backward() adds to it
            total += J.item()
        print(f"epoch {epoch + 1}: mean J = {total / len(x):.5f}")
    by_hand = {1: [p.detach().clone() for p in (W, b, M, c)]}
    """),
    ("md", """
    **Mini-batches.** The same loop with 10 samples per step, in whole-batch tensor ops. The rows of
    X are the samples, so the equations take their batch-first form, and L averages over the batch.
    """),
    ("code", """
    batch_size = 10
    W, b, M, c = init_params(seed=0)
    for epoch in range(epochs):
        lam = reg if epoch < reg_epochs else 0.0
        order = epoch_order(len(x), 0, epoch)
        total = 0.0
        for X, Y in zip(x[order].split(batch_size), y[order].split(batch_size)):   # X, Y: (10, 2)
            # forward
            U = X @ W.T + b                      # (10, 3)
            H = torch.relu(U)                    # (10, 3)
            V = H @ M.T + c                      # (10, 2)
            J = ((V - Y) ** 2).sum() / len(X) + lam * ((W * W).sum() + (M * M).sum())
            # backward
            J.backward()
            # update (sgd)
            with torch.no_grad():
                for p in (W, b, M, c):
                    p -= lr * p.grad
                    p.grad = None
            total += J.item() * len(X)
        print(f"epoch {epoch + 1}: mean J = {total / len(x):.5f}")
    by_hand[batch_size] = [p.detach().clone() for p in (W, b, M, c)]
    """),
    ("md", """
    **The library.** `baremlp.train` runs the same loop, with the same `# forward`, `# backward` and
    `# update (sgd)` phases, in `src/baremlp/train.py`. Starting from the same weights, it must end
    at the same weights, up to float32 rounding.
    """),
    ("code", """
    for batch_size, hand in by_hand.items():
        lib = MLP([2, 3, 2], seed=0)
        history = baremlp.train(lib, x, y, lr=lr, epochs=epochs, batch_size=batch_size,
                                reg=reg, reg_epochs=reg_epochs, seed=0)
        diff = max((p - q).abs().max().item() for p, q in zip(lib.parameters, hand))
        print(f"batch_size {batch_size:2d}: mean J per epoch", [f"{r['loss']:.5f}" for r in history],
              f"  max |library − by hand| = {diff:.1e}")
        assert diff < 1e-4
    """),
    ("md", """
    ## 6. Training on the rotation data

    These are the defaults of `baremlp train --dataset linear`, from `src/baremlp/runs/settings.py`:
    lr 0.04, λ = 0.01 in the first 20 epochs and 0 after them, 60 epochs of per-sample SGD, and
    seed 0. After every epoch a callback records the effective map A = M W. The run takes about
    10–15 s on a 2-core CPU.
    """),
    ("code", """
    defaults = dict(lr=0.04, epochs=60, reg=0.01, reg_epochs=20, batch_size=1, seed=0)
    assert all(getattr(Settings(), k) == v for k, v in defaults.items())   # the CLI's defaults

    x, y = datasets.linear(1000, seed=0)
    net = MLP([2, 3, 2], seed=0)
    maps = [analysis.effective_map(net)]    # A = M W before training, then after every epoch
    history = baremlp.train(net, x, y, **defaults,
                            callback=lambda record, velocity: maps.append(analysis.effective_map(net)))
    for r in history[::10] + history[-1:]:
        print(f"epoch {r['epoch']:2d}   λ = {r['reg']:.2f}   mean J = {r['loss']:.2e}"
              f"   max |A − R| = {analysis.map_error(maps[r['epoch']]):.1e}")
    """),
    ("md", """
    ## 7. The loss and M W over the epochs

    The loss curve is the mean of J over each epoch's steps. The middle panel shows the four entries
    of A = M W (column convention: y ≈ A x), with the entries of R drawn as dashed target lines. The
    right panel shows the largest entry of |A − R|. In an epoch where A equals R exactly in float32,
    this error is 0, and the log-scale curve drops off the bottom of the panel. The dotted line marks
    where λ is switched off.
    """),
    ("code", """
    A_t = torch.stack(maps)                       # (61, 2, 2): A after 0, 1, ..., 60 epochs
    lam_off = defaults["reg_epochs"]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.2))

    ax1.semilogy([r["epoch"] for r in history], [r["loss"] for r in history])
    ax1.set(xlabel="epoch", ylabel="mean J over the epoch", title="objective J (log scale)")

    for i in range(2):
        for j in range(2):
            line, = ax2.plot(A_t[:, i, j], label=f"A[{i + 1},{j + 1}] → {R[i, j].item():g}")
            ax2.axhline(R[i, j].item(), color=line.get_color(), ls="--", lw=1)
    ax2.set(xlabel="epoch", ylabel="entry of A",
            title="A = M W (column convention: y ≈ A x)\\nentries → R = [[0, −1], [1, 0]] (dashed)")
    ax2.legend(loc="center right")

    ax3.semilogy([analysis.map_error(A) for A in maps])
    ax3.set(xlabel="epoch", ylabel="max |A − R|", title="distance of A = M W from R (log scale)")

    for ax in (ax1, ax2, ax3):
        ax.axvline(lam_off, color="gray", ls=":", label=f"λ → 0 after epoch {lam_off}")
    ax1.legend()
    fig.tight_layout()
    plt.show()
    """),
    ("md", """
    ## 8. The effective map `W*M`

    The lab's `W*M` is the product of the two weight matrices. In the column convention it is
    A = M W, of shape (2, 2): the linear map from x to v when every ReLU is active. Here it is
    printed with the convention, its distance from R, the output offset M b + c, and the ReLU activity
    on the training data.
    """),
    ("code", """
    A = analysis.effective_map(net)
    W, b, M, c = (p.detach() for p in net.parameters)
    with torch.no_grad():
        u_min = net.hidden(x)[0].min(0).values
    print("effective map", analysis.CONVENTION + ":")
    print(analysis.format_matrix(A))
    print(f"max |A − R| = {analysis.map_error(A):.2e}")
    print("M b + c =", [f"{t:+.1e}" for t in (M @ b + c).tolist()])
    print("ReLU active fraction per hidden unit:", [f"{f:.3f}" for f in analysis.relu_active_fraction(net, x)[0].tolist()])
    print("smallest u per hidden unit over the data:", [f"{t:+.1e}" for t in u_min.tolist()])
    """),
    ("md", """
    ## Discussion

    **How close.** A = M W equals R = [[0, −1], [1, 0]] to float32 rounding. max |A − R| is of order
    10⁻⁷, and float32's spacing near 1 is 1.2 · 10⁻⁷. M b + c is about 0 as well.

    **Why it should.** Suppose every ReLU is active (u > 0). Then h = u, and the network is affine:
    v = M (W x + b) + c = (M W) x + (M b + c). The targets are y = R x. Fitting an affine map to
    samples that span the plane has only one exact solution, M W = R and M b + c = 0. The final
    loss is about 10⁻¹³, so this fit is exact to float32 precision.

    **The ReLU activity that makes it so.** The argument needs every unit to be active on the data.
    The printed active fractions are 1.000 or 0.999, and the smallest u of each unit is within about
    10⁻⁵ of 0. Training raised the biases (from 0 to about 2) just far enough that every unit is on for every sample, or nearly every sample. At most a
    sample sits right at a kink, and it contributes about 10⁻⁶. A unit that was off on a region of the
    data would make the network piecewise linear there, as in case 2. Then M W would not have to
    equal R, even with a good fit.

    **Why the lab writes `W*M`.** The lab writes the layers in the order the data meets them, W
    first and then M. That is the row-vector habit: x W, then (x W) M. With column vectors the matrix
    applied first stands on the right, v = M (W x), so the same map is A = M W. There is one map in
    two orientations: the column form is y = A x, and the batch-first code computes
    Y = X Wᵀ Mᵀ = X Aᵀ. The orientation matters when you compare numbers. If the weights are stored
    transposed, as (fan_in, fan_out), then the computed product `W*M` is Aᵀ, and its target is
    Rᵀ = [[0, 1], [−1, 0]]. So always name the convention when you print a product of weights.

    **Why λ is switched off after 20 epochs.** With λ > 0 the best fit is not R. Take the affine
    network on inputs with E[x xᵀ] = I. It minimises ‖A − R‖²_F + λ (‖W‖²_F + ‖M‖²_F). The smallest
    ‖W‖²_F + ‖M‖²_F that gives a map A is 2 Σᵢ σᵢ(A), where σᵢ(A) are the singular values of A. So
    each σᵢ minimises (σ − 1)² + 2λσ, which gives σ = 1 − λ and A = (1 − λ) R. That is 1 % short of R.
    Once λ = 0, the right panel falls from about 10⁻² to 10⁻⁷.

    λ is still used for the first 20 epochs because of dead units. A unit that dies (u ≤ 0 on every
    sample) gets no gradient from L. Its row of W and its column of M stay frozen, and they still
    add M[:, j] W[j, :] to M W, although the unit adds nothing to v. λ's gradient 2λW still reaches
    those weights and shrinks them by a factor (1 − 2 · lr · λ) = 0.9992 per step. After 20 epochs
    that is 0.9992²⁰⁰⁰⁰ ≈ e⁻¹⁶ ≈ 10⁻⁷, so the dead unit drops out of M W. In this run no unit is dead
    at the end (every active fraction is at least 0.999), so here the λ phase only costs epochs. It
    matters for the seeds where a unit dies early (see `bench/defaults.py`).
    """),
]



if __name__ == "__main__":
    write_executed(CELLS, NOTEBOOK, timeout=300)
