"""Regression on targets in the hundreds: --standardize scales them with the training split's statistics,
which the checkpoint keeps, so predictions and reported errors (RMSE, R²) come back in the data's units;
checkpoints written before that change still predict and evaluate as they did; a divergence names the
cause it can see."""
import json
import math
import shutil

import numpy as np
import pytest
import torch

from baremlp import Diverged, MLP, train
from baremlp.runs import checkpoint, inference, runner
from baremlp.cli import main
from baremlp.data import load
from baremlp.evaluation import fit
from baremlp.runs.settings import Settings
from conftest import V0  # written by the code of b88c654: see its README

PRICES = str(V0 / "prices.csv")  # price ≈ 2.5 · area + 15 · rooms + noise σ 10: values from 100 to 440


def prices():
    table = np.genfromtxt(PRICES, delimiter=",", names=True)
    return np.stack([table["area"], table["rooms"]], 1), table["price"]


def test_fit_scores_by_hand():
    # one output: errors 0, 0, 1 -> RMSE √(1/3); Σ(y − ȳ)² = 2 -> R² = 1 − 1/2
    assert fit(torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([[1.0], [2.0], [3.0]])) == pytest.approx(
        {"rmse": math.sqrt(1 / 3), "r2": 0.5})
    # a second output, constant and met exactly: RMSE 0 and R² 1 (scikit-learn's convention), averaged
    pred, y = torch.tensor([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]]), torch.tensor([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    assert fit(pred, y) == pytest.approx({"rmse": math.sqrt(1 / 3) / 2, "r2": 0.75})


# the rates at which --standardize, scaling inputs alone, diverged
@pytest.mark.parametrize("lr", ["0.04", pytest.param("0.01", marks=pytest.mark.slow)])
def test_standardized_prices_fit_and_report_in_the_data_units(tmp_path, capsys, lr):
    run = tmp_path / "run"
    assert main(["train", "--data", PRICES, "--target", "price", "--hidden", "8", "--standardize", "--lr", lr,
                 "--test-data", PRICES, "--out", str(run)]) == 0
    out = capsys.readouterr().out
    summary = json.loads((run / "summary.json").read_text())
    # predictions in the data's units, computed apart from the summary: numpy's RMSE and R² must agree
    assert main(["predict", "--checkpoint", str(run / "checkpoint.safetensors"), "--input-file", PRICES,
                 "--output", str(tmp_path / "p.csv")]) == 0
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "price"  # the target column's name, not y1
    x, y = prices()
    pred = np.array([float(v) for v in lines[1:]])
    rmse, r2 = np.sqrt(np.mean((pred - y) ** 2)), 1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert summary["train_rmse"] == pytest.approx(rmse, rel=1e-4) and summary["train_r2"] == pytest.approx(r2, abs=1e-5)
    assert summary["test_rmse"] == pytest.approx(rmse, rel=1e-4) and summary["test_r2"] == pytest.approx(r2, abs=1e-5)
    assert r2 > 0.95 and rmse < 25  # the noise has σ 10; unscaled, the default run ends at R² ≈ 0
    assert f"training RMSE {summary['train_rmse']:.4g}, R² {summary['train_r2']:.4f} (in the data's units)" in out
    assert "(L on standardized targets)" in out
    # the checkpoint keeps the training split's statistics of the target
    tensors, meta = checkpoint.load(run / "checkpoint.safetensors")
    assert tensors["y_mean"].item() == pytest.approx(y.mean(), rel=1e-6)
    assert tensors["y_std"].item() == pytest.approx(y.std(), rel=1e-6)  # numpy: ddof 0, as --standardize
    assert meta["targets"] == ["price"]
    # evaluate gives the summary's loss (on the scale trained) and the same RMSE in the data's units
    report = inference.evaluate_checkpoint(run / "checkpoint.safetensors")
    assert report["loss"] == pytest.approx(summary["test_loss"], rel=1e-5)
    assert report["rmse"] == pytest.approx(rmse, rel=1e-4)


def test_targets_are_scaled_with_the_training_split_only():
    data = load(Settings(data=PRICES, target="price", standardize=True, val_fraction=0.25, seed=0))
    assert data.y.mean().item() == pytest.approx(0, abs=1e-5)
    assert data.y.std(unbiased=False).item() == pytest.approx(1, abs=1e-5)
    _, y = prices()
    val = data.scaling.outputs(data.y_val)  # validation rows, back in the data's units: real prices
    assert all(min(abs(v - y)) < 0.01 for v in val.flatten().tolist())
    assert abs(data.y_val.mean().item()) > 1e-3  # scaled with the training split's statistics, not its own


def test_unscaled_data_gets_a_note_at_the_start(capsys):
    assert main(["train", "--data", PRICES, "--target", "price", "--epochs", "1"]) == 0
    assert ("note: unscaled inputs up to 160 and targets up to 438: SGD steps on them are huge "
            "(dead ReLUs, divergence); standardize=True (--standardize) scales them" in capsys.readouterr().out)


def test_a_checkpoint_of_the_previous_version_predicts_and_evaluates_as_it_did(tmp_path, capsys):
    """tests/data/v0/regression was trained with --standardize when only inputs were scaled: it has
    no target statistics, and its outputs are already in the data's units."""
    ckpt = str(V0 / "regression" / "checkpoint.safetensors")
    # what b88c654 printed, to 6 digits, on another CPU: float32 rounding differs between CPUs in the last
    # bits, so the numbers are compared with rtol 1e-5 (the 6-digit rounding itself is below 2e-6)
    assert main(["predict", "--checkpoint", ckpt, "--input", "100,3"]) == 0
    out = capsys.readouterr().out
    header, value = out.splitlines()
    assert out.endswith("\n") and header == "y1" and float(value) == pytest.approx(293.73, rel=1e-5)
    assert main(["predict", "--checkpoint", ckpt, "--input-file", PRICES, "--output", str(tmp_path / "p.csv")]) == 0
    rows = (tmp_path / "p.csv").read_text().splitlines()[1:4]
    assert [float(v) for v in rows] == pytest.approx([339.554, 458.678, 394.848], rel=1e-5)
    report = inference.evaluate_checkpoint(ckpt, data=PRICES)
    assert report["loss"] == pytest.approx(422.724, rel=1e-5)
    assert report["rmse"] == pytest.approx(math.sqrt(report["loss"]), rel=1e-6)  # one output: RMSE = √MSE


def test_resuming_a_run_started_before_targets_were_scaled_keeps_its_targets(tmp_path):
    """A killed run of the previous version trained on raw targets: resuming it must not switch them."""
    run = tmp_path / "regression"
    shutil.copytree(V0 / "regression", run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(dict(config, data=PRICES, epochs=4)))
    (run / "summary.json").unlink()
    _, before = runner.run(Settings(**dict(config, data=PRICES, epochs=3)), None, log=lambda *a: None,
                           progress=False)  # what the new version does from scratch, for contrast
    net, summary = runner.run(Settings(**dict(config, data=PRICES, epochs=4)), str(run), resume=True,
                              log=lambda *a: None, progress=False, plots=False)
    x, y = prices()
    tensors, _ = checkpoint.load(run / "checkpoint.safetensors")
    assert "y_mean" not in tensors  # still the raw targets
    pred = inference.predict(run / "checkpoint.safetensors", path_in=PRICES)[1]
    assert np.sqrt(np.mean((np.array(pred)[:, 0] - y) ** 2)) == pytest.approx(summary["train_rmse"], rel=1e-4)
    assert summary["final_loss"] > 100 > before["final_loss"]  # raw units versus standardized ones


def test_divergence_names_what_it_can_see(tmp_path, capsys):
    huge = tmp_path / "huge.csv"
    huge.write_text("a,y\n" + "".join(f"{i * 1e19},{i * 1e19}\n" for i in range(20)))
    assert main(["train", "--data", str(huge), "--target", "y", "--lr", "1e-30", "--epochs", "2", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err == ("error: training diverged: the objective became non-finite at step 1 (epoch 1); unscaled inputs "
                   "up to 1.9e+20 and targets up to 1.9e+20: standardize them (the CLI: --standardize)\n")
    # from Python: the same cause, and no smaller learning rate suggested for a step that never mattered
    x = torch.arange(20.0)[:, None] * 1e19
    with pytest.raises(Diverged, match="at step 1 .*unscaled inputs up to 1.9e\\+20") as info:
        train(MLP([1, 3, 1], seed=0), x, x, lr=1e-30, epochs=1, batch_size=20)  # every sample in step 1
    assert "smaller learning rate" not in str(info.value)
    # scaled data and a huge step: the step size is the cause
    xs = torch.linspace(-1, 1, 20)[:, None]
    with pytest.raises(Diverged, match=r"try a smaller learning rate than 1e\+06$"):
        train(MLP([1, 3, 1], seed=0), xs, xs, lr=1e6, epochs=3)
