"""One training run from Settings, as the CLI does it and as a notebook can call it:
data -> network -> train -> summary, with everything written to a run folder when one is given.

    from baremlp.runner import run
    from baremlp.settings import Settings
    net, summary = run(Settings(dataset="linear"), out="runs/linear")
"""
import json
import os
import platform
import time
from dataclasses import dataclass

import torch

from . import analysis, checkpoint, datasets
from .model import MLP, resolve_device
from .settings import Settings
from .train import evaluate, train


@dataclass
class Data:
    x: torch.Tensor  # (N, features) training inputs
    y: torch.Tensor  # (N, outputs) targets or (N,) class indices
    x_val: torch.Tensor = None
    y_val: torch.Tensor = None
    x_test: torch.Tensor = None
    y_test: torch.Tensor = None
    classes: list = None  # class names for classification, None for regression
    mean: torch.Tensor = None  # standardisation statistics of the training split, if used
    std: torch.Tensor = None

    @property
    def outputs(self):
        return len(self.classes) if self.classes else self.y.shape[1]


def load_data(s: Settings) -> Data:
    """The data set named by the settings, split and scaled as they ask."""
    dtype = getattr(torch, s.dtype)
    if s.dataset in ("linear", "folded", "square"):
        make = datasets.BUILTIN[s.dataset]
        kwargs = {"noise": s.noise} if s.dataset == "linear" else {}
        n = s.n or (2000 if s.dataset == "square" else 1000)
        x, y = make(n, seed=s.seed, dtype=dtype, **kwargs)
        data = Data(x, y, classes=["outside", "inside"] if s.dataset == "square" else None)
    else:
        from . import images
        data = images.load(s.dataset, s.data_dir, dtype=dtype)
    if s.val_fraction:
        data = split_validation(data, s.val_fraction, s.seed)
    if s.standardize:
        data = standardize(data)
    return data


def split_validation(data, fraction, seed):
    """Holds out a random share of the training samples (chosen by seed) as validation data."""
    n = data.x.shape[0]
    n_val = max(1, round(n * fraction))
    if n_val >= n:
        raise ValueError(f"val_fraction {fraction} leaves no training samples out of {n}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val, keep = order[:n_val], order[n_val:]
    data.x_val, data.y_val, data.x, data.y = data.x[val], data.y[val], data.x[keep], data.y[keep]
    return data


def standardize(data):
    """x ← (x − mean) / std per feature, with mean and std of the training split alone (no peeking)."""
    data.mean = data.x.mean(0)
    data.std = data.x.std(0).clamp_min(1e-8)  # constant features (blank pixels) stay finite
    for name in ("x", "x_val", "x_test"):
        t = getattr(data, name)
        if t is not None:
            setattr(data, name, (t - data.mean) / data.std)
    return data


def loss_name(s: Settings, data: Data):
    if s.loss != "auto":
        return s.loss
    return "cross-entropy" if data.classes else "mse"


def machine():
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def run(s: Settings, out=None, *, progress=True, log=print):
    """Trains as the settings say; writes config.json, metrics.jsonl, checkpoint and summary.json
    to the folder `out` (if given); returns (net, summary)."""
    device = resolve_device(s.device)
    data = load_data(s)
    loss = loss_name(s, data)
    net = MLP([data.x.shape[1], *s.hidden, data.outputs], seed=s.seed, init=s.init,
              init_scale=s.init_scale, device=device, dtype=getattr(torch, s.dtype))
    if out:
        os.makedirs(out, exist_ok=True)
        checkpoint.write_json(os.path.join(out, "config.json"), s.to_dict())
        metrics_path = os.path.join(out, "metrics.jsonl")
        checkpoint.write_atomic(metrics_path, "")
    log(f"training {net} on {s.dataset} ({data.x.shape[0]} samples) with {loss}, "
        f"lr {s.lr:g}, batch {s.batch_size}, {s.epochs} epochs")

    def after_epoch(record, velocity):
        if out:
            with open(metrics_path, "a") as f:
                f.write(json.dumps(record) + "\n")
        return False

    t0 = time.perf_counter()
    val = (data.x_val, data.y_val) if data.x_val is not None else None
    history = train(net, data.x, data.y, loss=loss, lr=s.lr, epochs=s.epochs, batch_size=s.batch_size,
                    reg=s.reg, seed=s.seed, momentum=s.momentum, schedule=s.schedule,
                    check_steps=s.check_steps, val=val, patience=s.patience,
                    callback=after_epoch, progress=progress)
    seconds = time.perf_counter() - t0
    final = evaluate(net, data.x, data.y, loss, s.reg)
    summary = {"final_loss": final["loss"], "final_objective": final["objective"],
               "epochs_run": len(history), "train_seconds": seconds, "loss_name": loss,
               "sizes": net.sizes, "machine": machine()}
    if "accuracy" in final:
        summary["train_accuracy"] = final["accuracy"]
    if s.check_steps:
        summary["steps_down"] = sum(r["steps_down"] for r in history) / len(history)
    if data.x_test is not None:
        test = evaluate(net, data.x_test, data.y_test, loss)
        summary["test_loss"], summary["test_accuracy"] = test["loss"], test.get("accuracy")
    if s.dataset in ("linear", "folded"):
        A = analysis.effective_map(net)
        summary["effective_map"] = A.tolist()
        summary["effective_map_convention"] = analysis.CONVENTION
        summary["effective_map_error"] = analysis.map_error(A)
    summary["relu_active_fraction"] = [f.tolist() for f in analysis.relu_active_fraction(net, data.x)]
    summary["dead_units"] = analysis.dead_units(net, data.x)
    log(f"final loss {final['loss']:.3e} (objective J {final['objective']:.3e}) after "
        f"{len(history)} epochs in {seconds:.1f} s")
    if "accuracy" in final:
        log(f"training accuracy {final['accuracy']:.4f}")
    if s.dataset in ("linear", "folded"):
        log(analysis.report_map(net, data.x))
    if out:
        checkpoint.save(os.path.join(out, "checkpoint.safetensors"), net,
                        {"settings": s.to_dict(), "epoch": len(history), "classes": data.classes})
        checkpoint.write_json(os.path.join(out, "summary.json"), summary)
        log(f"run folder: {out}")
    return net, summary
