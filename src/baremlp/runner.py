"""One training run from Settings, as the CLI does it and as a notebook can call it:
data -> network -> train -> summary, with everything written to a run folder when one is given.

    from baremlp.runner import run
    from baremlp.settings import Settings
    net, summary = run(Settings(dataset="linear"), out="runs/linear")

A run folder holds config.json (every setting), metrics.jsonl (one line per epoch),
checkpoint.safetensors (rewritten atomically after every epoch, so a killed run resumes
exactly: the sample order is a function of seed and epoch) and, at the end, summary.json.
"""
import json
import os
import platform
import time
from dataclasses import dataclass

import torch

from . import analysis, checkpoint, datasets
from .checks import UsageError
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
    inputs: list = None  # column names of a user's table, kept for predict

    @property
    def outputs(self):
        return len(self.classes) if self.classes else self.y.shape[1]


def load_data(s: Settings) -> Data:
    """The data set named by the settings, split and scaled as they ask."""
    dtype = getattr(torch, s.dtype)
    if s.data:
        train_t = read_table(s.data, s.target, task=s.task, dtype=dtype)
        data = Data(train_t.x, train_t.y, classes=train_t.classes, inputs=train_t.inputs)
        if s.test_data:
            test_t = read_table(s.test_data, s.target, task=train_t.task, classes=train_t.classes,
                                inputs=train_t.inputs, dtype=dtype)
            data.x_test, data.y_test = test_t.x, test_t.y
    elif s.dataset in datasets.BUILTIN:
        make = datasets.BUILTIN[s.dataset]
        kwargs = {"noise": s.noise} if s.dataset == "linear" else {}
        n = s.n or (2000 if s.dataset == "square" else 1000)
        x, y = make(n, seed=s.seed, dtype=dtype, **kwargs)
        x_test, y_test = make(n, seed=s.seed + 1, dtype=dtype)  # fresh samples, noise-free: how well it generalises
        data = Data(x, y, x_test=x_test, y_test=y_test, classes=["outside", "inside"] if s.dataset == "square" else None)
    else:
        from . import images
        data = images.load(s.dataset, s.data_dir, dtype=dtype)
    if s.val_fraction:
        data = split_validation(data, s.val_fraction, s.seed)
    if s.standardize:
        data = standardize(data)
    return data


def read_table(path, target, task="auto", **kwargs):
    """A user's CSV or NPZ table; task "auto" lets the reader infer regression or classification."""
    from . import tables
    kwargs["task"] = None if task == "auto" else task
    if path.endswith(".npz"):
        return tables.from_npz(path, **{k: v for k, v in kwargs.items() if k != "inputs"})
    if not target:
        raise UsageError(f"--target is missing: name the target column(s) of {path}")
    return tables.from_csv(path, target, **kwargs)


def split_validation(data, fraction, seed):
    """Holds out a random share of the training samples (chosen by seed) as validation data."""
    n = data.x.shape[0]
    n_val = max(1, round(n * fraction))
    if n_val >= n:
        raise UsageError(f"val_fraction {fraction} leaves no training samples out of {n}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val, keep = order[:n_val], order[n_val:]
    data.x_val, data.y_val, data.x, data.y = data.x[val], data.y[val], data.x[keep], data.y[keep]
    return data


def standardize(data):
    """x ← (x − mean) / std per feature, with mean and std of the training split alone (no peeking)."""
    data.mean = data.x.mean(0)
    data.std = data.x.std(0, unbiased=False).clamp_min(1e-8)  # constant features (blank pixels) stay finite
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


def build_net(s: Settings, data: Data, device):
    return MLP([data.x.shape[1], *s.hidden, data.outputs], seed=s.seed, init=s.init,
               init_scale=s.init_scale, device=device, dtype=getattr(torch, s.dtype))


def checkpoint_meta(s, data, epoch):
    return {"settings": s.to_dict(), "epoch": epoch, "classes": data.classes, "inputs": data.inputs}


def save_checkpoint(path, net, s, data, epoch, velocity=None, best=None):
    """best: (val_loss, epoch, state_dict) of the best validation epoch so far (early stopping),
    saved with the run's own state so that a resumed run restores the same weights as an
    uninterrupted one."""
    extra = {"mean": data.mean, "std": data.std} if data.mean is not None else {}
    meta = checkpoint_meta(s, data, epoch)
    if best is not None:
        meta["best_val_loss"], meta["best_epoch"] = best[0], best[1]
        extra.update({f"best.{k}": t for k, t in best[2].items()})
    checkpoint.save(path, net, meta, velocity, extra)


def best_of(tensors, meta, path):
    """(val_loss, epoch, state_dict) of the best validation epoch saved in a checkpoint, or None."""
    if "best_epoch" not in meta:
        return None
    state = {k[len("best."):]: t for k, t in tensors.items() if k.startswith("best.")}
    if "best_val_loss" not in meta or state.keys() != {k for k in tensors if k[0] in "Wb" and k[1:].isdigit()}:
        raise UsageError(f"checkpoint {path!r} is corrupt: its early-stopping weights are incomplete")
    return meta["best_val_loss"], meta["best_epoch"], state


def resume_settings(out):
    """The settings of the run in folder out, from its config.json."""
    path = os.path.join(out, "config.json")
    if not os.path.isfile(path):
        raise UsageError(f"cannot resume {out!r}: it has no config.json, so it is not a run folder")
    return Settings.from_dict(checkpoint.read_json(path))


RUN_FILES = ("summary.json", "checkpoint.safetensors", "metrics.jsonl", "config.json",
             "loss.png", "effective_map.png", "function.png", "confusion.png")


def tensorboard_writer(out):
    """TensorBoard's event writer into out/tensorboard (the optional tensorboard package)."""
    if not out:
        raise UsageError("--tensorboard writes into the run folder: give --out DIR as well")
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UsageError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
    return SummaryWriter(os.path.join(out, "tensorboard"))


def run(s: Settings, out=None, *, resume=False, overwrite=False, progress=True, log=print, plots=True,
        tensorboard=False):
    """Trains as the settings say and returns (net, summary).  With `out`, writes the run folder
    (a folder that already holds a run is refused unless overwrite=True, which clears it first);
    with resume=True, continues the run in `out` from its last checkpoint."""
    if out and not resume and os.path.exists(os.path.join(out, "config.json")):
        if not overwrite:
            raise UsageError(f"{out} already holds a run: continue it with --resume {out}, "
                             "choose a new --out, or replace it with --overwrite")
        for name in RUN_FILES:  # summary.json first: its presence means "finished"
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
    board = tensorboard_writer(out) if tensorboard else None
    device = resolve_device(s.device)
    data = load_data(s)
    loss = loss_name(s, data)
    net = build_net(s, data, device)
    start, velocity, prior, best = 0, None, [], None
    ckpt = os.path.join(out, "checkpoint.safetensors") if out else None
    metrics_path = os.path.join(out, "metrics.jsonl") if out else None
    if resume and not os.path.exists(ckpt):
        log(f"{out} has no checkpoint yet: starting its run from the beginning")
        resume = False
    if resume and os.path.exists(os.path.join(out, "summary.json")):
        log(f"{out} is finished already (summary.json exists): nothing to resume")
        summary = checkpoint.read_json(os.path.join(out, "summary.json"))
        net.load_state_dict(checkpoint.load(ckpt)[0])
        return net, summary
    if resume:
        tensors, meta = checkpoint.load(ckpt)
        net.load_state_dict(tensors)
        velocity = checkpoint.velocity_of(tensors, device)
        start = meta["epoch"]
        prior = checkpoint.read_json(metrics_path, lines=True)[:start] if os.path.exists(metrics_path) else []
        if len(prior) < start:
            raise UsageError(f"cannot resume: {metrics_path} has {len(prior)} epochs but the checkpoint {start}")
        checkpoint.write_atomic(metrics_path, "".join(json.dumps(r) + "\n" for r in prior))
        best = best_of(tensors, meta, ckpt)
        if s.patience and best is None:
            log(f"note: {ckpt} holds no early-stopping state (an older checkpoint): patience counts from here")
        log(f"resuming {out} after epoch {start} of {s.epochs}")
    elif out:
        os.makedirs(out, exist_ok=True)
        checkpoint.write_json(os.path.join(out, "config.json"), s.to_dict())
        checkpoint.write_atomic(metrics_path, "")
    reg_note = "" if not s.reg else f", λ {s.reg:g}" + (
        f" for the first {s.reg_epochs} epochs then 0" if s.reg_epochs is not None and s.reg_epochs < s.epochs else "")
    log(f"training {net} on {s.data or s.dataset} ({data.x.shape[0]} samples) with {loss}, "
        f"lr {s.lr:g}{reg_note}, batch {s.batch_size}, {s.epochs} epochs")
    tracks_map = has_rotation_map(s)

    best_saved = best  # (val_loss, epoch, state) of the best validation epoch so far, for the checkpoint

    def after_epoch(record, velocity):
        nonlocal best_saved
        if tracks_map:
            record["effective_map"] = analysis.effective_map(net).tolist()
        if record.get("best_epoch") == record["epoch"]:  # net holds this epoch's weights until we return
            best_saved = (record["val_loss"], record["epoch"], net.state_dict())
        if out:
            with open(metrics_path, "a") as f:
                f.write(json.dumps(record) + "\n")
            save_checkpoint(ckpt, net, s, data, record["epoch"], velocity, best_saved)
        if board:
            for key, value in record.items():
                if key != "epoch" and isinstance(value, (int, float)):
                    board.add_scalar(key, value, record["epoch"])
            for i, row in enumerate(record.get("effective_map", [])):
                for j, a in enumerate(row):
                    board.add_scalar(f"effective_map/A{i + 1}{j + 1}", a, record["epoch"])
            board.flush()
        return False

    t0 = time.perf_counter()
    val = (data.x_val, data.y_val) if data.x_val is not None else None
    history = prior + train(
        net, data.x, data.y, loss=loss, lr=s.lr, epochs=s.epochs, batch_size=s.batch_size, reg=s.reg,
        reg_epochs=s.reg_epochs, seed=s.seed, momentum=s.momentum, schedule=s.schedule,
        check_steps=s.check_steps, val=val, patience=s.patience, start_epoch=start, velocity=velocity, best=best,
        callback=after_epoch, progress=progress, engine=s.engine)
    if board:
        board.close()
    summary = summarize(s, net, data, history, loss, time.perf_counter() - t0, log)
    if out:
        save_checkpoint(ckpt, net, s, data, len(history))
        if plots:
            from .plots import write_run_plots  # matplotlib loads only when there is a folder to draw into
            written = write_run_plots(out, net, data, history, summary)
            log(f"plots: {', '.join(os.path.basename(p) for p in written)}")
        checkpoint.write_json(os.path.join(out, "summary.json"), summary)  # last: its presence means "done"
        log(f"run folder: {out}")
    return net, summary


def has_rotation_map(s):
    """The rotation data sets, whose target map R makes M W worth tracking."""
    return s.dataset in ("linear", "folded") and not s.data


def summarize(s, net, data, history, loss, seconds, log=print):
    """summary.json's content, and the report printed at the end of a run."""
    lam_at_end = s.reg if s.reg_epochs is None or s.reg_epochs >= len(history) else 0.0
    final = evaluate(net, data.x, data.y, loss, lam_at_end)
    summary = {"final_loss": final["loss"], "final_objective": final["objective"],
               "epochs_run": len(history), "train_seconds": seconds, "loss": loss,
               "sizes": net.sizes, "machine": machine()}
    log(f"final loss {final['loss']:.3e} after {len(history)} epochs in {seconds:.1f} s")
    if "accuracy" in final:
        summary["train_accuracy"] = final["accuracy"]
        log(f"training accuracy {final['accuracy']:.4f}")
    if s.check_steps:
        summary["steps_down"] = sum(r["steps_down"] for r in history) / len(history)
        log(f"the step lowered J on its own batch in {100 * summary['steps_down']:.1f} % of the steps")
    if data.x_val is not None:
        val = evaluate(net, data.x_val, data.y_val, loss)
        summary["val_loss"] = val["loss"]
        log(f"validation loss {val['loss']:.4g}" + (f", validation accuracy {val['accuracy']:.4f}" if "accuracy" in val else ""))
        if "accuracy" in val:
            summary["val_accuracy"] = val["accuracy"]
    if data.x_test is not None:
        test = test_report(net, data.x_test, data.y_test, loss, data.classes)
        summary.update(test)
        log(f"test loss {test['test_loss']:.4g}" + (
            f", test accuracy {test['test_accuracy']:.4f}" if "test_accuracy" in test else ""))
    if has_rotation_map(s):
        A = analysis.effective_map(net)
        summary["effective_map"] = A.tolist()
        summary["effective_map_convention"] = analysis.CONVENTION
        summary["effective_map_error"] = analysis.map_error(A)
        log(analysis.report_map(net, data.x))
    summary["relu_active_fraction"] = [f.tolist() for f in analysis.relu_active_fraction(net, data.x)]
    summary["dead_units"] = analysis.dead_units(net, data.x)
    if summary["dead_units"]:
        log(f"note: {summary['dead_units']} hidden unit(s) are off on every training sample (dead ReLUs)")
    return summary


def test_report(net, x, y, loss, classes):
    """Test loss, and for classification the accuracy, per-class accuracy and confusion matrix."""
    scores = evaluate(net, x, y, loss)
    report = {"test_loss": scores["loss"]}
    if classes:
        with torch.inference_mode():
            pred = net(x.to(net.device, net.dtype)).argmax(1).cpu()
        k = len(classes)
        confusion = torch.bincount(y.cpu() * k + pred, minlength=k * k).view(k, k)  # rows: true, columns: predicted
        per_class = confusion.diag().double() / confusion.sum(1).clamp_min(1)
        report.update(test_accuracy=scores["accuracy"], classes=classes,
                      per_class_accuracy=dict(zip(classes, per_class.tolist())),
                      confusion_matrix=confusion.tolist())
    return report
