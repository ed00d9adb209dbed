"""What a finished run reports: summary.json's content and the lines printed at the end of a run.

The numbers come from baremlp.evaluation and baremlp.analysis; this module only gathers them
and puts them into words.
"""
import os
import platform

import torch

from .. import analysis
from ..evaluation import evaluate, scores
from ..sgd import reg_at

ROTATION_DATA = ("linear", "folded")  # the data sets whose target map R makes M W worth tracking


def tracks_map(s):
    """Whether a run on settings s has a target map R to compare M W with."""
    return s.dataset in ROTATION_DATA and not s.data


def machine():
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def summarize(s, net, data, history, loss, seconds):
    """(summary, lines): summary.json's content and the report to print.  Losses are L on the data
    the network was trained on (standardized targets, where they were); RMSE and R² of a regression
    are in the data's own units."""
    lam_at_end = reg_at(s.reg, s.reg_epochs, len(history) - 1)  # λ of the last epoch
    final = scores(net, data.x, data.y, loss, scaling=data.scaling, reg=lam_at_end)  # one pass over the training set
    summary = {"final_loss": final["loss"], "final_objective": final["objective"],
               "epochs_run": len(history), "train_seconds": seconds, "loss": loss,
               "sizes": net.sizes, "machine": machine()}
    scaled = " (L on standardized targets)" if data.scaling.scales_targets else ""
    lines = [f"final loss {final['loss']:.3e}{scaled} after {len(history)} epochs in {seconds:.1f} s"]
    if "accuracy" in final:
        summary["train_accuracy"] = final["accuracy"]
        lines.append(f"training accuracy {final['accuracy']:.4f}")
    elif "rmse" in final:
        summary.update(train_rmse=final["rmse"], train_r2=final["r2"])
        lines.append(f"training RMSE {final['rmse']:.4g}, R² {final['r2']:.4f}"
                     + (" (in the data's units)" if scaled else ""))
    if s.check_steps:
        summary["steps_down"] = sum(r["steps_down"] for r in history) / len(history)
        lines.append(f"the step lowered J on its own batch in {100 * summary['steps_down']:.1f} % of the steps")
    if data.x_val is not None:
        val = evaluate(net, data.x_val, data.y_val, loss)
        summary["val_loss"] = val["loss"]
        if "accuracy" in val:
            summary["val_accuracy"] = val["accuracy"]
        lines.append(f"validation loss {val['loss']:.4g}" + (
            f", validation accuracy {val['accuracy']:.4f}" if "accuracy" in val else ""))
    if data.x_test is not None:
        test = {f"test_{k}" if k in ("loss", "accuracy", "rmse", "r2") else k: v
                for k, v in scores(net, data.x_test, data.y_test, loss, data.classes, data.scaling).items()}
        summary.update(test)
        lines.append(f"test loss {test['test_loss']:.4g}" + (
            f", test accuracy {test['test_accuracy']:.4f}" if "test_accuracy" in test else "") + (
            f", test RMSE {test['test_rmse']:.4g}, R² {test['test_r2']:.4f}" if "test_rmse" in test else ""))
    active = analysis.relu_active_fraction(net, data.x)  # one pass over the data for all that follows
    if tracks_map(s):
        A = analysis.effective_map(net)
        summary["effective_map"] = A.tolist()
        summary["effective_map_convention"] = analysis.CONVENTION
        summary["effective_map_error"] = analysis.map_error(A)
        lines.append(analysis.report_map(net, data.x, active=active))
    summary["relu_active_fraction"] = [f.tolist() for f in active]
    summary["dead_units"] = analysis.dead_units(net, data.x, active)
    if summary["dead_units"]:
        lines.append(analysis.dead_note(active, data.x.shape[0]))
    return summary, lines
