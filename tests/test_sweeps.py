"""Sweeps, the noise-vs-reg experiment and the intervals it reports, on grids small enough for CI; and
what they do with hostile input (issue 22, items 3, 4, 5, 8, 17): seeds, repeated or boolean grid values,
too few seeds, runs that all diverged."""
import json
import math
import os

import pytest
import torch

from baremlp import UsageError
from baremlp.cli import main
from baremlp.cli.parser import build_parser
from baremlp.runs import plots
from baremlp.runs.folder import RunFolder
from baremlp.runs.settings import Settings
from baremlp.studies import sweeps
from baremlp.studies.experiments import MIN_SEEDS, _answer, noise_vs_reg
from baremlp.studies.intervals import Z95, bootstrap, wilson
from baremlp.studies.sweeps import sweep
from conftest import read_rows

TINY = ["--n", "60", "--epochs", "2"]
ONE_BY_ONE = ["--n", "40", "--epochs", "1", "--no-population"]  # the runs one after another, not as a population
NO_LOG = dict(log=lambda *a: None)


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


def test_a_sweep_counts_diverged_runs_per_cell_and_marks_them(tmp_path, monkeypatch):
    drawn = {}
    heatmap = plots.heatmap

    def keep_notes(*args, **kwargs):
        drawn.update(kwargs)
        return heatmap(*args, **kwargs)
    monkeypatch.setattr(plots, "heatmap", keep_notes)
    out = tmp_path / "sweep"
    assert main(["sweep", "--lr", "1e6,0.04", "--n", "60", "--epochs", "2", "--seeds", "2", "--out", str(out)]) == 0
    table = (out / "summary.md").read_text()
    assert "| 1000000.0 | 2 (2 diverged) | – |" in table and "| 0.04 | 2 | " in table
    assert drawn["notes"] == [["2/2 diverged"], [""]] and "diverged" in drawn["title"]
    # a cell where 2 of 3 seeds diverged: the count is shown, the mean is over the one that did not
    rows = [{"lr": 0.5, "seed": s, "final_loss": v, "diverged_at_step": d}
            for s, v, d in ((0, None, 7), (1, 2.22, None), (2, None, 9))]
    entry, = sweeps.aggregate(rows, ["lr"])
    assert entry["runs"] == 3 and entry["diverged"] == 2 and entry["final_loss"] == (2.22, 0.0)
    assert "| 0.5 | 3 (2 diverged) | 2.22 ± 0 |" in sweeps.markdown([entry], ["lr"])


def test_sweep_refuses_stale_runs_with_other_settings(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "--lr", "0.04,0.02", *TINY, "--seeds", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sweep", "--lr", "0.04,0.02", "--n", "60", "--epochs", "3", "--seeds", "1", "--out", str(out)]) == 2
    assert "was trained with other settings (epochs 2 ≠ 3): use a new --out" in capsys.readouterr().err


def seeds_of(out):
    return [json.loads((out / "runs" / name / "config.json").read_text())["seed"] for name in sorted(os.listdir(out / "runs"))]


# item 3: --seed in a sweep is the first seed
def test_sweep_seed_is_the_first_seed(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", "--seed", "5", "--seeds", "2", *ONE_BY_ONE, "--out", str(out)]) == 0
    assert [r["seed"] for r in read_rows(out / "runs.csv")] == ["5", "6"]
    assert seeds_of(out) == [5, 6]
    assert "seed=5" in capsys.readouterr().out
    # the Python API: base.seed is the first seed too
    rows = sweep(Settings(n=40, epochs=1, seed=3), {"lr": [0.04]}, 2, tmp_path / "p", population=False, **NO_LOG)
    assert [r["seed"] for r in rows] == [3, 4]


def test_sweep_refuses_a_list_of_seeds_in_one_line(tmp_path, capsys):
    assert main(["sweep", "--seed", "1,2", *ONE_BY_ONE, "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err == ("error: --seed '1,2' invalid: a sweep's --seed is its first seed, one whole "
                                       "number (the runs take seeds S .. S+N-1 with --seeds N)\n")
    assert not (tmp_path / "s").exists()
    with pytest.raises(UsageError, match=r"^values\['seed'\] invalid: a sweep's seeds are base.seed .. base.seed \+ seeds − 1"):
        sweep(Settings(), {"seed": [1, 2]}, 1, tmp_path / "p", **NO_LOG)
    help_text = build_parser()._subparsers._group_actions[0].choices["sweep"].format_help()
    assert "the first seed: the runs take seeds S .. S+N-1" in " ".join(help_text.split())


# item 5: duplicate grid values are refused, naming the value
@pytest.mark.parametrize("flag, text, value", [("--lr", "0.1,0.1", "0.1"), ("--lr", "0.1,1e-1", "0.1"),
                                               ("--hidden", "3,4,3", "3"), ("--noise", "0,1,0.0", "0.0")])
def test_sweep_refuses_a_repeated_grid_value(tmp_path, capsys, flag, text, value):
    assert main(["sweep", flag, text, *ONE_BY_ONE, "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err == f"error: {flag} lists {value} twice: give each grid value once\n"
    assert not (tmp_path / "s").exists()


def test_repeated_values_are_refused_in_python_and_in_the_experiment(tmp_path, capsys):
    with pytest.raises(UsageError, match=r"^values\['lr'\] lists 0.1 twice: give each grid value once$"):
        sweep(Settings(), {"lr": [0.1, 0.1]}, 1, tmp_path / "p", **NO_LOG)
    with pytest.raises(UsageError, match=r"^noises lists 1 twice: give each value once$"):
        noise_vs_reg(tmp_path / "e", noises=(1, 1.0), seeds=1, **NO_LOG)
    assert main(["experiment", "noise-vs-reg", "--noises", "1,1", "--out", str(tmp_path / "c")]) == 2
    assert capsys.readouterr().err == "error: --noises lists 1 twice: give each value once\n"
    assert main(["experiment", "noise-vs-reg", "--regs", "0,0.1,0.10", "--out", str(tmp_path / "c")]) == 2
    assert capsys.readouterr().err == "error: --regs lists 0.1 twice: give each value once\n"
    assert not any(p.exists() for p in (tmp_path / "p", tmp_path / "e", tmp_path / "c"))


# item 17: a boolean setting is a switch in a sweep too
def test_sweep_boolean_settings_are_switches(tmp_path):
    def standardized(out):
        return [json.loads((out / "runs" / name / "config.json").read_text())["standardize"]
                for name in sorted(os.listdir(out / "runs"))]
    assert main(["sweep", "--standardize", "--seeds", "1", *ONE_BY_ONE, "--out", str(tmp_path / "a")]) == 0
    assert standardized(tmp_path / "a") == [True]
    assert main(["sweep", "--no-standardize", "--seeds", "1", *ONE_BY_ONE, "--out", str(tmp_path / "b")]) == 0
    assert standardized(tmp_path / "b") == [False]
    assert main(["sweep", "--standardize", "true,false", "--seeds", "1", *ONE_BY_ONE,
                 "--out", str(tmp_path / "c")]) == 0
    assert sorted(standardized(tmp_path / "c")) == [False, True]


# the noise-vs-reg experiment
def test_noise_vs_reg_report(tmp_path):
    report = noise_vs_reg(tmp_path, noises=(0.0, 1.0), regs=(0.0, 0.1), seeds=1, n=40, epochs=3, log=lambda *a: None)
    assert report.count("| noise σ | λ = 0 | λ = 0.1 |") == 2 and report.count("\n| 1 | ") == 3
    assert "**Answer** (clean held-out error, against λ = 0): " in report
    assert (tmp_path / "report.md").read_text() == report
    assert (tmp_path / "noise_vs_reg.png").read_bytes()[:4] == b"\x89PNG"
    assert len(read_rows(tmp_path / "runs.csv")) == 4


def test_experiment_needs_a_baseline_and_a_positive_lambda(tmp_path, capsys):
    assert main(["experiment", "noise-vs-reg", "--regs", "0", "--out", str(tmp_path)]) == 2
    assert "expected 0 (the baseline) and at least one λ > 0" in capsys.readouterr().err
    assert main(["experiment", "noise-vs-reg", "--regs", "0,a", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: --regs '0,a' invalid: expected comma-separated numbers\n"


# items 4 and 8: too few seeds, or runs that all diverged: no interval, no conclusion, no crash
def test_experiment_with_one_seed_gives_no_interval_and_no_answer(tmp_path):
    report = noise_vs_reg(tmp_path, noises=(0.0, 1.0), regs=(0.0, 0.1), seeds=1, n=40, epochs=2, population=False,
                          **NO_LOG)
    assert f"(1 seed: an interval needs {MIN_SEEDS})" in report
    rows = [line for line in report.splitlines() if line.startswith(("| 0 |", "| 1 |"))]
    assert len(rows) == 3 * 2 and not any("[" in row for row in rows)  # no bracketed interval in the tables
    assert ("**Answer** (clean held-out error, against λ = 0): no conclusion at σ = 0, σ = 1: "
            f"fewer than {MIN_SEEDS} seeds finished at λ = 0 and at λ = 0.1") in report
    assert (tmp_path / "noise_vs_reg.png").read_bytes()[:4] == b"\x89PNG"


def test_experiment_where_every_run_diverges_reports_it(tmp_path):
    report = noise_vs_reg(tmp_path, noises=(0.0, 1.0), regs=(0.0, 0.1), seeds=2, n=40, epochs=2, lr=100,
                          population=False, **NO_LOG)
    assert report.count("– (2 of 2 diverged)") == 2 * 4  # two tables of four cells
    assert "no conclusion at σ = 0, σ = 1" in report and "helps" not in report and "hurts" not in report
    assert "every run diverged" in report
    assert (tmp_path / "noise_vs_reg.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "report.md").read_text() == report


def test_the_answer_needs_enough_pairs():
    enough, few = MIN_SEEDS, MIN_SEEDS - 1
    change = {(0.0, 0.1): (-0.5, -0.6, -0.4, few), (0.0, 0.2): (0.5, 0.3, 0.8, enough),
              (1.0, 0.1): (-0.09, -0.12, -0.06, enough), (1.0, 0.2): (-0.5, -0.6, -0.4, 0)}
    assert _answer(change, [0.0, 1.0], [0.0, 0.1, 0.2]) == (
        "**Answer** (clean held-out error, against λ = 0): λ helps measurably at σ = 1 (1 of 2 λ; best λ = 0.1: "
        "-9.0 %, 95 % interval -12.0 to -6.0 %); no conclusion at σ = 0: fewer than "
        f"{MIN_SEEDS} seeds finished at λ = 0 and at λ = 0.1.")


def test_the_experiments_answer_follows_the_intervals():
    change = {(0.0, 0.1): (0.5, 0.3, 0.8, 100),  # hurts: the whole interval above 0
              (1.0, 0.1): (-0.09, -0.12, -0.06, 100),  # helps
              (2.0, 0.1): (-0.02, -0.05, 0.01, 100)}  # the interval holds 0
    assert _answer(change, [0.0, 1.0, 2.0], [0.0, 0.1]) == (
        "**Answer** (clean held-out error, against λ = 0): λ helps measurably at σ = 1 (1 of 1 λ; best λ = 0.1: -9.0 %, "
        "95 % interval -12.0 to -6.0 %); no λ helps measurably at σ = 2; every λ > 0 tested hurts at σ = 0.")


# the intervals
def test_wilson_interval_solves_the_score_equation():
    # the interval's ends are the p with (k/n − p)² = z² p (1 − p) / n: the score test's boundary
    for k, n in [(2, 100), (37, 50), (15, 1000)]:
        low, high = wilson(k, n)
        for p in (low, high):
            assert (k / n - p) ** 2 == pytest.approx(Z95 ** 2 * p * (1 - p) / n, rel=1e-9)
        assert low < k / n < high
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == 1.0
    assert wilson(0, 20)[1] == pytest.approx(Z95 ** 2 / (20 + Z95 ** 2))  # k = 0: high = z² / (n + z²)


def test_bootstrap_interval_of_a_mean():
    g = torch.Generator().manual_seed(0)
    values = 3 + 2 * torch.randn(400, generator=g, dtype=torch.float64)
    low, high = bootstrap(values)
    se = values.std().item() / math.sqrt(400)
    assert low == pytest.approx(values.mean().item() - Z95 * se, abs=0.25 * se)  # the normal interval, nearly
    assert high == pytest.approx(values.mean().item() + Z95 * se, abs=0.25 * se)
    pairs = torch.stack([values, 1.1 * values], 1)  # every pair's second is 10 % larger: exactly +10 %
    ratio = lambda t: t[..., 1].mean(-1) / t[..., 0].mean(-1) - 1
    assert bootstrap(pairs, ratio) == pytest.approx((0.1, 0.1))
