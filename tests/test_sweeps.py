"""Sweeps and the noise-vs-reg experiment, on grids small enough for CI."""
import os

import pytest

from baremlp.cli import main
from baremlp.studies.experiments import noise_vs_reg
from baremlp.runs.folder import RunFolder
from conftest import read_rows

TINY = ["--n", "60", "--epochs", "2"]


def test_sweep_grid_csv_table_heatmap_and_continue(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "--lr", "0.04,0.02", "--hidden", "3,4x2", *TINY, "--seeds", "2", "--out", str(out)]) == 0
    rows = read_rows(out / "runs.csv")
    assert len(rows) == 8
    assert {(r["hidden"], r["lr"], r["seed"]) for r in rows} == {
        (h, lr, s) for h in ("3", "4x2") for lr in ("0.04", "0.02") for s in ("0", "1")}
    assert all(float(r["final_loss"]) > 0 for r in rows)
    table = (out / "summary.md").read_text()
    assert "| hidden | lr | runs | final_loss" in table and table.count("\n| 3 |") + table.count("\n| 4x2 |") == 4
    assert (out / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
    # an interrupted sweep continues: a removed run is redone, the others are read back
    victim = sorted(os.listdir(out / "runs"))[0]
    os.remove(out / "runs" / victim / "summary.json")
    capsys.readouterr()
    assert main(["sweep", "--lr", "0.04,0.02", "--hidden", "3,4x2", *TINY, "--seeds", "2", "--out", str(out)]) == 0
    assert "8 runs (7 already done)" in capsys.readouterr().out
    assert [r["final_loss"] for r in read_rows(out / "runs.csv")] == [r["final_loss"] for r in rows]


def test_sweep_bad_value_is_one_line(tmp_path, capsys):
    assert main(["sweep", "--lr", "0.1,abc", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: --lr value 'abc' invalid: expected a float\n"
    assert main(["sweep", "--lr", "0.1,-1", "--out", str(tmp_path)]) == 2
    assert "lr -1.0 invalid" in capsys.readouterr().err


def test_noise_vs_reg_report(tmp_path):
    report = noise_vs_reg(tmp_path, noises=(0.0, 1.0), regs=(0.0, 0.1), seeds=1, n=40, epochs=3, log=lambda *a: None)
    assert report.count("| noise σ | λ = 0 | λ = 0.1 |") == 2 and report.count("\n| 1 | ") == 3
    assert "**Answer** (clean held-out error, against λ = 0): " in report
    assert (tmp_path / "report.md").read_text() == report
    assert (tmp_path / "noise_vs_reg.png").read_bytes()[:4] == b"\x89PNG"
    assert len(read_rows(tmp_path / "runs.csv")) == 4


@pytest.mark.parametrize("how", [[], ["--no-population"]])
def test_sweep_records_a_diverged_run_and_goes_on(tmp_path, capsys, how):
    out = tmp_path / "sweep"
    assert main(["sweep", "--lr", "1e6,0.04", *TINY, "--seeds", "1", *how, "--out", str(out)]) == 0
    rows = read_rows(out / "runs.csv")
    assert [r["final_loss"] == "" for r in rows] == [True, False]
    assert int(rows[0]["diverged_at_step"]) >= 1
    assert "diverged at step" in capsys.readouterr().out
    # its folder says it diverged, as a single run's does, so a new run may replace it
    folder = str(out / "runs" / "lr=1000000.0_seed=0")
    assert RunFolder(folder).summary()["diverged"] is True
    assert main(["train", "--out", folder, "--lr", "0.04", *TINY]) == 0
    assert RunFolder(folder).summary()["final_loss"] > 0


def test_sweep_refuses_stale_runs_with_other_settings(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "--lr", "0.04,0.02", *TINY, "--seeds", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sweep", "--lr", "0.04,0.02", "--n", "60", "--epochs", "3", "--seeds", "1", "--out", str(out)]) == 2
    assert "was trained with other settings (epochs 2 ≠ 3): use a new --out" in capsys.readouterr().err


def test_experiment_needs_a_baseline_and_a_positive_lambda(tmp_path, capsys):
    assert main(["experiment", "noise-vs-reg", "--regs", "0", "--out", str(tmp_path)]) == 2
    assert "expected 0 (the baseline) and at least one λ > 0" in capsys.readouterr().err
    assert main(["experiment", "noise-vs-reg", "--regs", "0,a", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: --regs '0,a' invalid: expected comma-separated numbers\n"
