"""Using a trained network: evaluate a checkpoint on held-out data, predict for new inputs.

A checkpoint carries what prediction needs besides the weights: the settings it was trained
with, the class names, the input and target column names and the standardisation statistics of
its training split (applied here as they were then, never recomputed on new data): inputs are
scaled with them, and outputs of a network trained on standardized targets are brought back
to the data's units.  Checkpoints of older versions (no target statistics) predict as they did.
"""
import dataclasses

import torch

from ..data import Scaling, load as load_data, loss_for, read_table
from ..data.tables import read_inputs
from ..errors import UsageError, check_data
from ..evaluation import scores
from ..ops import Softmax
from . import checkpoint
from .settings import Settings


def load(path):
    """(net, settings, meta, scaling) from a checkpoint file (scaling: its baremlp.data.Scaling)."""
    tensors, meta = checkpoint.load(path)
    try:
        settings = Settings.from_dict(meta["settings"])
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"checkpoint {path!r} has no usable settings in its header ({e})") from None
    net = checkpoint.model_from(tensors, meta)
    if not all(bool(torch.isfinite(p).all()) for p in net.parameters):  # a diverged network: every output nan
        raise UsageError(f"checkpoint {path!r} holds NaN or infinite weights: expected a trained network's "
                         "finite ones (a run that diverged; train it again with a smaller lr)")
    return net, settings, meta, Scaling.from_tensors(tensors)


def check_inputs(net, x, inputs, what):
    """Refuses x unless it is (N, fan_in) for net: every entry point calls this before scaling x, since
    the checkpoint's statistics (fan_in,) would broadcast a 1-column table into a score, silently.
    inputs: the network's input names (the message names them); what: the data, as the caller knows it."""
    width, got = net.sizes[0], x.shape[-1] if x.dim() else 1
    if x.dim() != 2 or got != width:
        names = ", ".join(inputs[:8]) + (f", … ({len(inputs)} in all)" if len(inputs) > 8 else "")
        raise UsageError(f"{what} has {got} value{'s' * (got != 1)} per sample but the network expects {width} ({names})")
    return x


def input_names(net, meta):
    """The network's input column names: the checkpoint's, or x1, x2, ... for data without names."""
    return meta.get("inputs") or [f"x{i + 1}" for i in range(net.sizes[0])]


def evaluate_checkpoint(path, *, dataset=None, data=None, target=None, data_dir=None):
    """Loss (and accuracy, per-class accuracy, confusion matrix; or RMSE and R² in the data's units) of a
    checkpoint on held-out data: the test split of its data set (fresh samples for the built-in ones, the
    test images for Fashion-MNIST and CIFAR-10, the --test-data table), another data set, or a table."""
    net, s, meta, scaling = load(path)
    if data or s.data:
        table_path = data or s.test_data  # the table named here, else the run's own test table
        if not table_path:
            raise UsageError(f"this network was trained on {s.data} and has no test table: "
                             "pass data (--data), a table of held-out rows")
        task = "classification" if meta.get("classes") else "regression"  # the network's, never inferred anew
        table = read_table(table_path, target or s.target, task=task, classes=meta.get("classes"),
                           inputs=meta.get("inputs"), features=s.features, drop=s.drop, dtype=net.dtype)
        x, y = check_inputs(net, table.x, input_names(net, meta), f"data {table_path}"), table.y
    else:
        s = dataclasses.replace(s, dataset=dataset or s.dataset, data_dir=data_dir or s.data_dir,
                                val_fraction=0.0, patience=0, standardize=False)  # all of the test split
        d = load_data(s)
        x, y = check_inputs(net, d.x_test, input_names(net, meta), f"data set {s.dataset!r}"), d.y_test
    if bool(meta.get("classes")) == y.dtype.is_floating_point:
        trained, found = ("classification", "real-valued targets") if meta.get("classes") else ("regression", "class labels")
        raise UsageError(f"this network was trained for {trained}, but the data holds {found}")
    if y.dtype.is_floating_point:
        y = scaling.targets(y)  # the loss on the scale the network was trained on, as the run's summary has it
    x, y = check_data(net, scaling.inputs(x), y)
    loss = loss_for(s.loss, meta.get("classes"))
    return {"samples": x.shape[0], **scores(net, x, y, loss, meta.get("classes"), scaling)}


def predict(path, *, values=None, path_in=None):
    """Outputs for new inputs, as (header, rows): regression outputs, or the class and its probabilities.
    values: one sample as 'a,b,...'; path_in: a CSV with the input columns, or .npy / .npz."""
    net, s, meta, scaling = load(path)
    width, inputs = net.sizes[0], input_names(net, meta)
    if values is not None:
        try:
            x = torch.tensor([[float(v) for v in values.split(",")]], dtype=net.dtype)
        except ValueError:
            raise UsageError(f"input {values!r} invalid: expected {width} comma-separated numbers") from None
    else:
        x = read_inputs(path_in, inputs, dtype=net.dtype)
    check_inputs(net, x, inputs, "input")
    if not torch.isfinite(x).all():
        raise UsageError("input holds NaN or infinite values: expected finite numbers")
    with torch.inference_mode():
        v = net(scaling.inputs(x).to(net.device)).cpu()
    classes = meta.get("classes")
    if classes:
        p = Softmax()(v)
        header = ["class"] + [f"p_{c}" for c in classes]
        rows = [[classes[int(i)]] + [float(f"{q:.6g}") for q in row] for i, row in zip(p.argmax(1), p.tolist())]
    else:
        header = meta.get("targets") or [f"y{i + 1}" for i in range(v.shape[1])]
        v = scaling.outputs(v)  # in the data's units
        rows = [[float(f"{a:.6g}") for a in row] for row in v.tolist()]  # 6 significant digits, not 6 decimals
    return header, rows
