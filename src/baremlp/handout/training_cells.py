"""The starter's second half: the derivation, the gradients, the SGD step, the data, the training loop
that calls the student's functions, W·M beside R, the discussion and the just-for-fun part (sections 5-12)."""
from .lab import Answer, Code, Graded, Md, Written

CELLS = [
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
