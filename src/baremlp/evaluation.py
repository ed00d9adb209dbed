"""How well a network does on data, as numbers only (the runner and the CLI do the printing).

    evaluate(net, x, y, loss, reg) -> {"loss": L, "objective": J, "accuracy": share correct}
    scores(net, x, y, loss, classes) -> the same, and for classes the per-class accuracy and the
                                        confusion matrix (rows: true class, columns: predicted),
                                        for regression RMSE and R² in the data's units
"""
import torch

from . import ops
from .ops import make_loss


def evaluate(net, x, y, loss="mse", reg=0.0):
    """The full-data objective and, for class labels, the accuracy: {'loss': L, 'objective': J, 'accuracy'}."""
    return _evaluate(net, x, y, loss, reg)[0]


def _evaluate(net, x, y, loss, reg):
    """(evaluate's dict, the outputs v): one forward pass serves both."""
    loss_fn = make_loss(loss)
    x, y = x.to(net.device, net.dtype), y.to(net.device)
    with torch.inference_mode():
        v = net(x)  # (N, fan_out)
        if y.dtype.is_floating_point:
            y = y.to(net.dtype)
        L = loss_fn(v, y).item()
        out = {"loss": L, "objective": ops.objective(loss_fn, v, y, net.weights, reg).item() if reg else L}
        if not y.dtype.is_floating_point:
            out["accuracy"] = (v.argmax(1) == y).double().mean().item()
    return out, v


def confusion_matrix(y, pred, k):
    """(k, k) counts: row = true class, column = predicted class."""
    return torch.bincount(y.cpu() * k + pred.cpu(), minlength=k * k).view(k, k)


def fit(pred, y):
    """RMSE and R² of regression outputs pred against targets y, both (N, outputs), in their units,
    each a mean over the outputs (scikit-learn's uniform average):
        RMSE = √((1/N) Σ_n (ŷ_n − y_n)²),   R² = 1 − Σ_n (ŷ_n − y_n)² / Σ_n (y_n − ȳ)²
    (a constant target has R² 1 when met exactly, else 0, as in scikit-learn)."""
    pred, y = pred.double(), y.double()
    sse = ((pred - y) ** 2).sum(0)  # (outputs,)
    sst = ((y - y.mean(0)) ** 2).sum(0)  # (outputs,)
    r2 = torch.where(sst > 0, 1 - sse / sst.clamp_min(1e-300), (sse == 0).double())
    return {"rmse": (sse / y.shape[0]).sqrt().mean().item(), "r2": r2.mean().item()}


def scores(net, x, y, loss, classes=None, scaling=None, reg=None):
    """{'loss'} ('objective' too, J with this λ, where reg is given), 'accuracy' for class labels, and
    with classes also 'classes', 'per_class_accuracy' and 'confusion_matrix'; for regression 'rmse' and
    'r2' in the data's units (scaling: the baremlp.data.Scaling the targets were standardized with,
    or None).  One forward pass serves them all."""
    result, v = _evaluate(net, x, y, loss, reg or 0.0)
    out = {"loss": result["loss"]}
    if reg is not None:
        out["objective"] = result["objective"]
    if y.dtype.is_floating_point and not classes:
        back = scaling.outputs if scaling is not None else (lambda t: t)  # to the data's units
        out.update(fit(back(v.cpu()), back(y.cpu())))
    if "accuracy" in result:
        out["accuracy"] = result["accuracy"]
    if classes:
        pred = v.argmax(1)
        confusion = confusion_matrix(y, pred, len(classes))
        per_class = confusion.diag().double() / confusion.sum(1).clamp_min(1)
        out.update(classes=list(classes), per_class_accuracy=dict(zip(classes, per_class.tolist())),
                   confusion_matrix=confusion.tolist())
    return out
