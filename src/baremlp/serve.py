"""Using a trained network: evaluate a checkpoint on a data set, predict for new inputs.

A checkpoint carries what prediction needs besides the weights: the settings it was trained
with, the class names, the input column names and the standardisation statistics of its
training split (applied here as they were then, never recomputed on new data).
"""
import dataclasses

import torch

from . import checkpoint
from .settings import Settings


def load(path):
    """(net, settings, meta, mean, std) from a checkpoint file."""
    tensors, meta = checkpoint.load(path)
    try:
        settings = Settings.from_dict(meta["settings"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"checkpoint {path!r} has no usable settings in its header ({e})") from None
    net, _ = checkpoint.load_model(path)
    return net, settings, meta, tensors.get("mean"), tensors.get("std")


def scale(x, mean, std):
    return x if mean is None else (x - mean) / std


def evaluate_checkpoint(path, *, dataset=None, data=None, data_dir=None):
    """Loss (and accuracy, per-class accuracy, confusion matrix) of a checkpoint on held-out data:
    the test split of an image data set, a fresh draw of a built-in one (seed + 1), or a table."""
    from . import runner
    net, s, meta, mean, std = load(path)
    changes = {"val_fraction": 0.0, "standardize": False}
    if data:
        changes.update(data=data, test_data=None)
    elif dataset or data_dir:
        changes.update(data=None, target=None, test_data=None, dataset=dataset or s.dataset, data_dir=data_dir)
    if (changes.get("dataset") or s.dataset) in ("linear", "folded", "square") and not (data or s.data):
        changes["seed"] = s.seed + 1  # fresh samples, never the ones it was trained on
    s = dataclasses.replace(s, **changes)
    if s.data:
        table = runner.read_table(s.data, s.target, task=None if s.task == "auto" else s.task,
                                  classes=meta.get("classes"), inputs=meta.get("inputs"), dtype=net.dtype)
        x, y = table.x, table.y
    else:
        d = runner.load_data(s)
        x, y = (d.x_test, d.y_test) if d.x_test is not None else (d.x, d.y)
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"the data has {x.shape[1]} input features but the network expects {net.sizes[0]}")
    loss = runner.loss_name(s, runner.Data(x, y, classes=meta.get("classes")))
    report = {"samples": x.shape[0], **runner.test_report(net, scale(x, mean, std), y, loss, meta.get("classes"))}
    return {k.removeprefix("test_"): v for k, v in report.items()}


def predict(path, *, values=None, path_in=None):
    """Outputs for new inputs, as (header, rows): regression outputs, or the class and its probabilities.
    values: one sample as 'a,b,...'; path_in: a CSV with the input columns, or .npy / .npz."""
    net, s, meta, mean, std = load(path)
    width = net.sizes[0]
    inputs = meta.get("inputs") or [f"x{i + 1}" for i in range(width)]
    if values is not None:
        try:
            x = torch.tensor([[float(v) for v in values.split(",")]], dtype=net.dtype)
        except ValueError:
            raise ValueError(f"input {values!r} invalid: expected {width} comma-separated numbers") from None
    else:
        from .tables import read_inputs
        x = read_inputs(path_in, inputs, dtype=net.dtype)
    if x.dim() != 2 or x.shape[1] != width:
        raise ValueError(f"input has {x.shape[-1]} values per sample but the network expects {width} ({', '.join(inputs)})")
    if not torch.isfinite(x).all():
        raise ValueError("input holds NaN or infinite values: expected finite numbers")
    with torch.inference_mode():
        v = net(scale(x, mean, std).to(net.device))
        classes = meta.get("classes")
        if classes:
            p = net.predict_proba(scale(x, mean, std).to(net.device)).cpu()
            header = ["class"] + [f"p_{c}" for c in classes]
            rows = [[classes[int(i)]] + [round(q, 6) for q in row] for i, row in zip(p.argmax(1), p.tolist())]
        else:
            header = [f"y{i + 1}" for i in range(v.shape[1])]
            rows = [[round(a, 6) for a in row] for row in v.cpu().tolist()]
    return header, rows
