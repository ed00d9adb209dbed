"""Sweeps, populations and the experiment under hostile input (issue 22, items 3, 4, 5, 8, 11, 12, 17).

The runs are tiny (40-60 samples, 1-3 epochs); those that need a population keep it at two members,
the size tests/test_population.py compiles, so that torch.compile runs once for the session."""
import json
import os

import pytest
import torch

from baremlp import UsageError
from baremlp.cli import main
from baremlp.cli.parser import build_parser
from baremlp.runs.runner import run
from baremlp.runs.settings import Settings
from baremlp.studies import population
from baremlp.studies.experiments import MIN_SEEDS, _answer, noise_vs_reg
from baremlp.studies.sweeps import sweep
from conftest import read_rows

TINY = ["--n", "40", "--epochs", "1", "--no-population"]
QUIET = dict(log=lambda *a: None)


def seeds_of(out):
    return [json.loads((out / "runs" / name / "config.json").read_text())["seed"] for name in sorted(os.listdir(out / "runs"))]


# item 3: --seed in a sweep is the first seed
def test_sweep_seed_is_the_first_seed(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", "--seed", "5", "--seeds", "2", *TINY, "--out", str(out)]) == 0
    assert [r["seed"] for r in read_rows(out / "runs.csv")] == ["5", "6"]
    assert seeds_of(out) == [5, 6]
    assert "seed=5" in capsys.readouterr().out
    # the Python API: base.seed is the first seed too
    rows = sweep(Settings(n=40, epochs=1, seed=3), {"lr": [0.04]}, 2, tmp_path / "p", population=False, **QUIET)
    assert [r["seed"] for r in rows] == [3, 4]


def test_sweep_refuses_a_list_of_seeds_in_one_line(tmp_path, capsys):
    assert main(["sweep", "--seed", "1,2", *TINY, "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err == ("error: --seed '1,2' invalid: a sweep's --seed is its first seed, one whole "
                                       "number (the runs take seeds S .. S+N-1 with --seeds N)\n")
    assert not (tmp_path / "s").exists()
    with pytest.raises(UsageError, match=r"^values\['seed'\] invalid: a sweep's seeds are base.seed .. base.seed \+ seeds − 1"):
        sweep(Settings(), {"seed": [1, 2]}, 1, tmp_path / "p", **QUIET)
    help_text = build_parser()._subparsers._group_actions[0].choices["sweep"].format_help()
    assert "the first seed: the runs take seeds S .. S+N-1" in " ".join(help_text.split())


# item 5: duplicate grid values are refused, naming the value
@pytest.mark.parametrize("flag, text, value", [("--lr", "0.1,0.1", "0.1"), ("--lr", "0.1,1e-1", "0.1"),
                                               ("--hidden", "3,4,3", "3"), ("--noise", "0,1,0.0", "0.0")])
def test_sweep_refuses_a_repeated_grid_value(tmp_path, capsys, flag, text, value):
    assert main(["sweep", flag, text, *TINY, "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err == f"error: {flag} lists {value} twice: give each grid value once\n"
    assert not (tmp_path / "s").exists()


def test_repeated_values_are_refused_in_python_and_in_the_experiment(tmp_path, capsys):
    with pytest.raises(UsageError, match=r"^values\['lr'\] lists 0.1 twice: give each grid value once$"):
        sweep(Settings(), {"lr": [0.1, 0.1]}, 1, tmp_path / "p", **QUIET)
    with pytest.raises(UsageError, match=r"^noises lists 1 twice: give each value once$"):
        noise_vs_reg(tmp_path / "e", noises=(1, 1.0), seeds=1, **QUIET)
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
    assert main(["sweep", "--standardize", "--seeds", "1", *TINY, "--out", str(tmp_path / "a")]) == 0
    assert standardized(tmp_path / "a") == [True]
    assert main(["sweep", "--no-standardize", "--seeds", "1", *TINY, "--out", str(tmp_path / "b")]) == 0
    assert standardized(tmp_path / "b") == [False]
    assert main(["sweep", "--standardize", "true,false", "--seeds", "1", *TINY, "--out", str(tmp_path / "c")]) == 0
    assert sorted(standardized(tmp_path / "c")) == [False, True]


# items 4 and 8: too few seeds, or runs that all diverged: no interval, no conclusion, no crash
def test_experiment_with_one_seed_gives_no_interval_and_no_answer(tmp_path):
    report = noise_vs_reg(tmp_path, noises=(0.0, 1.0), regs=(0.0, 0.1), seeds=1, n=40, epochs=2, population=False, **QUIET)
    assert f"(1 seed: an interval needs {MIN_SEEDS})" in report
    rows = [line for line in report.splitlines() if line.startswith(("| 0 |", "| 1 |"))]
    assert len(rows) == 3 * 2 and not any("[" in row for row in rows)  # no bracketed interval in the tables
    assert ("**Answer** (clean held-out error, against λ = 0): no conclusion at σ = 0, σ = 1: "
            f"fewer than {MIN_SEEDS} seeds finished at λ = 0 and at λ = 0.1") in report
    assert (tmp_path / "noise_vs_reg.png").read_bytes()[:4] == b"\x89PNG"


def test_experiment_where_every_run_diverges_reports_it(tmp_path):
    report = noise_vs_reg(tmp_path, noises=(0.0, 1.0), regs=(0.0, 0.1), seeds=2, n=40, epochs=2, lr=100,
                          population=False, **QUIET)
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


# item 11: memory is estimated before training; populations train in chunks
def test_a_population_over_the_memory_cap_is_refused_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(population, "MEMORY", 10**6)
    trained = []
    monkeypatch.setattr(population, "train", lambda *a, **k: trained.append(a))
    with pytest.raises(UsageError, match=r"^seeds: 100000 members would keep about 400 MB of summaries, over "
                                         r"the cap of 1 MB \(population.MEMORY\): pass fewer seeds"):
        population.run(Settings(n=40, epochs=1), seeds=range(100000))
    with pytest.raises(UsageError, match=r"^one member needs about [\d.]+ MB \(its data and 1000 epochs of records\) beside 4 kB of summaries, "
                                         r"over the cap of 1 MB \(population.MEMORY\)"):
        population.run(Settings(n=4000, epochs=1000), seeds=[0])
    assert trained == []
    assert main(["sweep", "--seeds", "100000", "--n", "40", "--epochs", "1", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: a sweep of 100000 runs would keep about ") and err.endswith(
        "over the cap of 1 MB (population.MEMORY): sweep fewer seeds or values\n")
    assert not (tmp_path / "s").exists()


def test_a_population_trains_in_chunks_whose_members_end_where_their_single_runs_end(monkeypatch, compiled_ok):
    s = Settings(n=40, epochs=2, reg_epochs=1)
    sizes = []
    original = population.train
    monkeypatch.setattr(population, "train", lambda members, *a: sizes.append(len(members)) or original(members, *a))
    each = population.member_bytes(s, population.datamod.load(s))
    monkeypatch.setattr(population, "MEMORY", 4 * population.SUMMARY_BYTES + 2 * each + 1)  # 4 summaries kept
    chunked = population.run(s, seeds=range(4))
    assert sizes == [2, 2]  # the cap holds two members beside the summaries
    for seed, mine in enumerate(chunked):
        theirs = run(s.replace(seed=seed), progress=False, log=lambda *a: None)[1]
        assert mine["final_loss"] == pytest.approx(theirs["final_loss"], rel=1e-4)
        torch.testing.assert_close(torch.tensor(mine["effective_map"]), torch.tensor(theirs["effective_map"]),
                                   atol=1e-5, rtol=0)


# item 12: an interrupted population sweep keeps its finished chunks
def test_an_interrupted_population_sweep_continues_from_its_finished_chunks(monkeypatch, tmp_path, capsys, compiled_ok):
    args = ["sweep", "--lr", "0.04,0.02,0.01", "--n", "40", "--epochs", "2", "--reg-epochs", "1", "--seeds", "2"]
    monkeypatch.setattr(population, "CHUNK", 2)
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    original, calls, cut = population.train, [], [True]

    def train(members, *a):
        calls.append([(m.lr, m.seed) for m in members])
        if cut[0] and len(calls) == 2:  # the second chunk: the first one's folders are written
            raise KeyboardInterrupt
        return original(members, *a)
    monkeypatch.setattr(population, "train", train)
    out = tmp_path / "cut"
    assert main([*args, "--out", str(out)]) == 130
    assert "interrupted; " + str(out) + " keeps the 2 runs that finished" in capsys.readouterr().err
    assert sorted(n for n in os.listdir(out / "runs") if (out / "runs" / n / "summary.json").exists()) == [
        "lr=0.04_seed=0", "lr=0.04_seed=1"]
    calls.clear(), cut.clear(), cut.append(False)
    assert main([*args, "--out", str(out)]) == 0
    assert "6 runs (2 already done)" in capsys.readouterr().out
    assert calls == [[(0.02, 0), (0.02, 1)], [(0.01, 0), (0.01, 1)]]  # the first chunk read back, not retrained
    assert read_rows(out / "runs.csv") == [
        {**r, "train_seconds": c["train_seconds"]} for r, c in zip(read_rows(tmp_path / "whole" / "runs.csv"),
                                                                  read_rows(out / "runs.csv"))]


@pytest.mark.slow
def test_a_population_sweep_on_two_processes_reads_its_folders_back(tmp_path, compiled_ok):
    args = ["sweep", "--lr", "0.04,0.02", "--n", "40", "--epochs", "1", "--seeds", "2"]
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    assert main([*args, "--no-population", "--out", str(tmp_path / "one")]) == 0
    two, one = read_rows(tmp_path / "two" / "runs.csv"), read_rows(tmp_path / "one" / "runs.csv")
    assert [(r["lr"], r["seed"]) for r in two] == [(r["lr"], r["seed"]) for r in one]
    for a, b in zip(two, one):
        assert float(a["final_loss"]) == pytest.approx(float(b["final_loss"]), rel=1e-4)
