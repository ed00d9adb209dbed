"""How well a network does on data, as numbers only (the runner and the CLI do the printing).

    evaluate(net, x, y, loss, reg) -> {"loss": L, "objective": J, "accuracy": share correct}
    scores(net, x, y, loss, classes) -> the same, and for classes the per-class accuracy and the
                                        confusion matrix (rows: true class, columns: predicted)
"""
import torch

from . import ops
from .errors import UsageError, UsageTypeError


def make_loss(loss):
    """A loss object from its name ("mse", "cross-entropy") or any callable loss(v, y)."""
    if isinstance(loss, str):
        if loss not in ops.LOSSES:
            raise UsageError(f"loss {loss!r} unknown: expected one of {', '.join(ops.LOSSES)} or a loss object")
        return ops.LOSSES[loss]()
    if not callable(loss):
        raise UsageTypeError(f"loss {loss!r} invalid: expected a name or a callable loss(v, y)")
    return loss


def evaluate(net, x, y, loss="mse", reg=0.0):
    """The full-data objective and, for class labels, the accuracy: {'loss': L, 'objective': J, 'accuracy'}."""
    return _evaluate(net, x, y, loss, reg)[0]


def _evaluate(net, x, y, loss, reg):
    """(evaluate's dict, the predicted classes or None): one forward pass serves both."""
    loss_fn = make_loss(loss)
    x, y = x.to(net.device, net.dtype), y.to(net.device)
    with torch.inference_mode():
        v = net(x)  # (N, fan_out)
        if y.dtype.is_floating_point:
            y = y.to(net.dtype)
        out = {"loss": loss_fn(v, y).item(), "objective": ops.objective(loss_fn, v, y, net.weights, reg).item()}
        if y.dtype.is_floating_point:
            return out, None
        pred = v.argmax(1)
        out["accuracy"] = (pred == y).double().mean().item()
    return out, pred


def confusion_matrix(y, pred, k):
    """(k, k) counts: row = true class, column = predicted class."""
    return torch.bincount(y.cpu() * k + pred.cpu(), minlength=k * k).view(k, k)


def scores(net, x, y, loss, classes=None):
    """{'loss'}, and with classes also 'accuracy', 'classes', 'per_class_accuracy' and 'confusion_matrix'."""
    result, pred = _evaluate(net, x, y, loss, 0.0)
    out = {"loss": result["loss"]}
    if classes:
        confusion = confusion_matrix(y, pred, len(classes))
        per_class = confusion.diag().double() / confusion.sum(1).clamp_min(1)
        out.update(accuracy=result["accuracy"], classes=list(classes),
                   per_class_accuracy=dict(zip(classes, per_class.tolist())), confusion_matrix=confusion.tolist())
    return out
