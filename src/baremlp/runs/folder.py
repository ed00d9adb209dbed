"""A run folder: everything one training run leaves on disk, and reading it back to resume.

    config.json              every setting: a recipe that repeats the run
    metrics.jsonl            one JSON line per finished epoch
    checkpoint.safetensors   parameters, momentum buffers, early stopping's best weights and where
                             training stood; rewritten atomically after every epoch
    summary.json             written last: its presence means the run finished (or diverged: then
                             it says so, and a new run may replace it)
    *.png, tensorboard/      plots, and event logs with --tensorboard

Every file is written atomically, so a run killed at any moment resumes from its last finished
epoch: the sample order is a function of seed and epoch, so nothing else needs saving.
"""
import json
import os

from ..data.scaling import keep_raw_targets
from ..errors import UsageError
from ..bookkeeping import TrainState
from . import checkpoint
from .files import check_writable_folder, read_json, write_atomic, write_json
from .settings import Settings

FILES = ("summary.json", "checkpoint.safetensors", "metrics.jsonl", "config.json",
         "loss.png", "effective_map.png", "function.png", "confusion.png")


def settings_of(folder):
    """The settings of the run in folder, from its config.json."""
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        raise UsageError(f"cannot resume {folder!r}: it has no config.json, so it is not a run folder")
    return Settings.from_dict(read_json(path))


class RunFolder:
    def __init__(self, path):
        self.path = path
        self.checkpoint = self.file("checkpoint.safetensors")
        self.metrics = self.file("metrics.jsonl")

    def file(self, name):
        return os.path.join(self.path, name)

    def holds_run(self):
        return os.path.exists(self.file("config.json"))

    def finished(self):
        return os.path.exists(self.file("summary.json"))

    def diverged(self):
        return self.finished() and self.summary().get("diverged", False)

    def check_new(self, overwrite=False):
        """Refuses a place that cannot take a new run: a file, a folder that holds a run (unless it is to
        be overwritten, or its run diverged) or other files (unless overwrite), a place not writable."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise UsageError(f"{self.path} is a file: expected a folder for the run (a new one)")
        if self.holds_run() and not overwrite and not self.diverged():
            raise UsageError(f"{self.path} already holds a run: continue it with resume=True (--resume {self.path}), "
                             "choose another out folder (--out), or replace it with overwrite=True (--overwrite)")
        if not self.holds_run() and os.path.isdir(self.path) and os.listdir(self.path) and not overwrite:
            raise UsageError(f"{self.path} holds other files and no run: choose a new or empty folder, "
                             "or write the run among them with overwrite=True (--overwrite)")
        check_writable_folder(self.path)

    def opening(self, s: Settings, resume=False, overwrite=False):
        """How a run on settings s begins with this folder, once every rule for a new or a resumed run
        is checked (here alone, before any data loads or file is written):
        "new" (a new run, after check_new), "restart" (resume asked, but no epoch finished yet: it
        starts anew), "resume", "extend" (resume to more epochs than before) or "finished"."""
        if not resume:
            self.check_new(overwrite)
            return "new"
        if not self.holds_run() and not (os.path.isdir(self.path) and os.listdir(self.path)):
            self.check_new()  # nothing there yet: resume=True starts the run, as a resumed run with no epoch does
            return "restart"
        before = settings_of(self.path)
        if self.diverged():
            raise UsageError(f"{self.path} holds a run that diverged: nothing to resume; start it anew with other "
                             f"settings and resume=False (baremlp train --out {self.path} without --resume)")
        if not os.path.exists(self.checkpoint):
            check_writable_folder(self.path)  # it starts anew: config.json is rewritten
            return "restart"
        if s.replace(epochs=before.epochs) != before:
            raise UsageError(f"resuming {self.path} continues it with its own settings: only epochs may change")
        done = checkpoint.header(self.checkpoint)["epoch"]
        if s.epochs < done:
            raise UsageError(f"{self.path} has trained {done} epochs already: epochs {s.epochs} cannot shorten it")
        if s.epochs != before.epochs:
            return "extend"
        return "finished" if self.finished() else "resume"

    def start(self, s: Settings):
        """A new run: clears the run that the folder holds, then writes config.json.  Whether it may be
        cleared (overwrite, or a run that diverged) was checked before the data loaded (opening)."""
        if self.holds_run():
            for name in FILES:  # summary.json first: its presence means "finished"
                if os.path.exists(self.file(name)):
                    os.remove(self.file(name))
        os.makedirs(self.path, exist_ok=True)
        write_json(self.file("config.json"), s.to_dict())
        write_atomic(self.metrics, "")

    def extend(self, s: Settings):
        """More epochs for a run: config.json gets the new settings and a finished run is open again."""
        write_json(self.file("config.json"), s.to_dict())
        if self.finished():
            os.remove(self.file("summary.json"))

    def restore(self, net, data):
        """Loads the last checkpoint into net; returns (TrainState, the records of its epochs, the
        seconds trained so far).  metrics.jsonl is cut back to the checkpoint's epoch (a kill between
        the two writes).  A run begun before --standardize scaled regression targets goes on with raw ones."""
        tensors, meta = checkpoint.load(self.checkpoint)
        net.load_state_dict(tensors)
        if data.scaling.scales_targets and "mean" in tensors and "y_mean" not in tensors:
            keep_raw_targets(data)
        epoch = meta["epoch"]
        records = read_json(self.metrics, lines=True)[:epoch] if os.path.exists(self.metrics) else []
        if len(records) < epoch:
            raise UsageError(f"cannot resume: {self.metrics} has {len(records)} epochs but the checkpoint {epoch}")
        self.write_metrics(records)
        state = TrainState(epoch, checkpoint.velocity_of(tensors, net.device), best_of(tensors, meta, self.checkpoint))
        seconds = meta.get("train_seconds")
        if seconds is None:  # a checkpoint of an older version: the epochs' own times are what it kept
            seconds = sum(r.get("time", 0.0) for r in records)
        return state, records, seconds

    def write_metrics(self, records):
        """metrics.jsonl holding these records, one line each, written at once (atomically)."""
        write_atomic(self.metrics, "".join(json.dumps(r) + "\n" for r in records))

    def append(self, record):
        with open(self.metrics, "a") as f:
            f.write(json.dumps(record) + "\n")

    def save(self, net, s, data, state, seconds=None):
        """The checkpoint: parameters, momentum, early stopping's best weights, and in its header the
        settings, where training stood (epoch, seconds trained) and what predict needs (class, input
        and target names; the scaling of inputs and of regression targets)."""
        extra = data.scaling.tensors()  # mean, std, y_mean, y_std: those in use
        meta = {"settings": s.to_dict(), "epoch": state.epoch, "classes": data.classes, "inputs": data.inputs,
                "targets": data.targets, "train_seconds": seconds}
        if state.best is not None:
            meta["best_val_loss"], meta["best_epoch"] = state.best[0], state.best[1]
            extra.update({f"best.{k}": t for k, t in state.best[2].items()})
        checkpoint.save(self.checkpoint, net, meta, state.velocity, extra)

    def write_summary(self, summary):
        write_json(self.file("summary.json"), summary)  # last: its presence means "done"

    def write_diverged(self, error, seconds):
        """The summary of a run that diverged (error: the bookkeeping.Diverged raised): the folder says what
        happened, and a new run into it may replace it."""
        self.write_summary(diverged_summary(error, seconds))

    def summary(self):
        return read_json(self.file("summary.json"))


def diverged_summary(error, seconds):
    """summary.json of a run that diverged (error: the bookkeeping.Diverged raised), after `seconds` of training."""
    return {"diverged": True, "final_loss": None, "diverged_at_step": error.step, "diverged_at_epoch": error.epoch,
            "error": str(error), "epochs_run": error.epoch - 1, "train_seconds": seconds}


def stored(record):
    """An epoch's record (bookkeeping.epoch_record's) as a run folder keeps it, changed in place: J under
    "objective" only, since "loss" reads as L."""
    record.pop("loss", None)
    return record


def best_of(tensors, meta, path):
    """(val_loss, epoch, state_dict) of the best validation epoch saved in a checkpoint, or None."""
    if "best_epoch" not in meta:
        return None
    state = {k[len("best."):]: t for k, t in tensors.items() if k.startswith("best.")}
    if "best_val_loss" not in meta or state.keys() != {k for k in tensors if k[0] in "Wb" and k[1:].isdigit()}:
        raise UsageError(f"checkpoint {path!r} is corrupt: its early-stopping weights are incomplete")
    return meta["best_val_loss"], meta["best_epoch"], state


class Board:
    """TensorBoard event logs in the run folder's tensorboard/ (the optional tensorboard package)."""

    def __init__(self, folder):
        if not folder:
            raise UsageError("tensorboard writes into the run folder: give a folder (out, --out DIR) as well")
        try:
            from torch.utils.tensorboard import SummaryWriter  # optional: pip install tensorboard
        except ImportError:
            raise UsageError("tensorboard needs the tensorboard package: pip install tensorboard") from None
        self.writer = SummaryWriter(os.path.join(folder, "tensorboard"))

    def add(self, record):
        """Every number of an epoch's record, and the effective map's entries A_ij."""
        for key, value in record.items():
            if key != "epoch" and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, record["epoch"])
        for i, row in enumerate(record.get("effective_map", [])):
            for j, a in enumerate(row):
                self.writer.add_scalar(f"effective_map/A{i + 1}{j + 1}", a, record["epoch"])
        self.writer.flush()

    def close(self):
        self.writer.close()
