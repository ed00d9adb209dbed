"""Check your own work: where a student's forward pass, loss, gradients or SGD step differ from the lab's, and why.

    from baremlp import check
    check.forward(my_forward)          # fn(x, W, b, M, c) -> v, the 2-3-2 network
    check.loss(my_loss)                # fn(v, y) -> L; kind="cross_entropy" for logits and class indices
    check.regularization(my_reg)       # fn(W, M) -> ‖W‖²_F + ‖M‖²_F
    check.gradients(my_grads)          # fn(x, y, W, b, M, c, lam) -> {"W": dW, "b": db, "M": dM, "c": dc}
    check.step(my_step)                # fn(params, x, y, lr, lam): one SGD step in place on [W, b, M, c]
    check.all(globals())               # whichever of forward, loss, regularization, gradients, step are defined
    check.by_hand(x, W, b, M, c, u=..., h=..., v=...)   # a forward pass worked by hand: the first wrong value, the slip

Each returns a Report: .passed, .mistakes (codes of the catalogue, baremlp.check.catalogue.MISTAKES),
.conventions (accepted ones seen: "row-convention", "mse-mean-over-outputs", "half-mse", ...), .cases,
and str() / a table in Jupyter.  The student's functions may take and return torch tensors or NumPy arrays.
Column convention: u = W x + b with W (3, 2), v = M h + c with M (2, 3); docs/check.md has every code.
"""
from .catalogue import CONVENTIONS, MISTAKES
from .forward import forward
from .gradients import gradients
from .loss import loss
from .regularization import regularization
from .report import Case, Report
from .step import step
from .checkall import check_all as all  # noqa: A001  (the contract's name; the builtin is not used here)
from .by_hand import by_hand  # after the import, the name is the function (as check.all above)

__all__ = ["forward", "loss", "regularization", "gradients", "step", "all", "by_hand", "Report", "Case", "MISTAKES",
           "CONVENTIONS"]
