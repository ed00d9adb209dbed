"""Population training: every member ends where its own single run (runner.run, the eager loop) ends.

The populations here are small (two members, 60 samples, a few epochs) and share one shape, so that
torch.compile compiles them once; the full-length check and the multi-process one are marked slow."""
import math
import os
import re

import pytest
import torch

from baremlp import UsageError
from baremlp.runs import checkpoint
from baremlp.engines import compiled
from baremlp.studies import population
from baremlp.cli import main
from baremlp.studies.experiments import _answer
from baremlp.runs.files import read_json
from baremlp.runs.folder import RunFolder
from baremlp.runs.runner import run
from baremlp.runs.settings import Settings
from baremlp.studies.intervals import Z95, bootstrap, wilson
from baremlp.train import Diverged
from conftest import read_rows

SMALL = Settings(n=60, epochs=3, reg_epochs=1)  # the rotation data, per-sample SGD, λ for one epoch


pytestmark = pytest.mark.usefixtures("compiled_ok")  # conftest: skips where torch.compile cannot run


def single(s):
    return run(s, progress=False, log=lambda *a: None)[1]


def assert_same_run(mine, theirs, atol=1e-5):
    """A member's summary against its single run's: same keys, same numbers (float32 rounding apart)."""
    assert set(mine) - {"population"} == set(theirs)
    assert mine["epochs_run"] == theirs["epochs_run"]
    assert mine["dead_units"] == theirs["dead_units"]
    for key in ("final_loss", "final_objective", "test_loss", "effective_map_error", "train_accuracy", "test_accuracy"):
        if key in theirs:
            assert mine[key] == pytest.approx(theirs[key], rel=1e-4, abs=atol), key
    for key in ("effective_map", "relu_active_fraction"):
        if key in theirs:
            for a, b in zip(mine[key], theirs[key]):
                torch.testing.assert_close(torch.tensor(a), torch.tensor(b), atol=atol, rtol=0)


def test_members_end_where_their_single_runs_end():
    summaries = population.run(SMALL, seeds=[3, 0])
    for seed, mine in zip([3, 0], summaries):
        assert_same_run(mine, single(SMALL.replace(seed=seed)))
    assert summaries[0]["population"]["size"] == 2
    assert summaries[0]["effective_map"] != summaries[1]["effective_map"]  # two seeds, two networks


def test_members_with_their_own_lr_reg_and_noise(monkeypatch):
    loads = []
    monkeypatch.setattr(population.datamod, "load", lambda s, load=population.datamod.load: loads.append(s) or load(s))
    summaries = population.run(SMALL, seeds=[1, 1], lr=[0.03, 0.01], reg=[0.0, 0.05], noise=[0.5, 0.0])
    assert [(s.seed, s.noise) for s in loads] == [(1, 0.5), (1, 0.0)]  # one data set for each, loaded once
    loads.clear()
    population.run(SMALL, seeds=[1, 1], lr=[0.03, 0.01])
    assert len(loads) == 1  # members differing in lr alone share their data
    for (lr, reg, noise), mine in zip([(0.03, 0.0, 0.5), (0.01, 0.05, 0.0)], summaries):
        assert_same_run(mine, single(SMALL.replace(seed=1, lr=lr, reg=reg, noise=noise)))


@pytest.mark.slow  # 20 s on 2 cores, most of it compiling the vmapped scan for cross-entropy
def test_classification_with_momentum_a_schedule_and_a_partial_batch():
    s = Settings(dataset="square", n=60, hidden=(8,), init="he", lr=0.05, momentum=0.9, schedule="cosine",
                 batch_size=7, epochs=2, reg=0.001)  # 7 does not divide 60: a last batch of 4
    summaries = population.run(s, seeds=[0, 5])
    for seed, mine in zip([0, 5], summaries):
        assert_same_run(mine, single(s.replace(seed=seed)))
        assert "confusion_matrix" in mine


def test_a_diverged_member_is_recorded_and_the_others_go_on(tmp_path):
    diverged, fine = population.run(SMALL, seeds=[0, 0], lr=[1e6, 0.04])
    with pytest.raises(Diverged):
        run(SMALL.replace(lr=1e6), str(tmp_path), progress=False, log=lambda *a: None)
    theirs = RunFolder(str(tmp_path)).summary()  # what a single run that diverged says of itself
    assert diverged["diverged"] is True
    assert diverged == theirs | {"train_seconds": diverged["train_seconds"]}
    assert_same_run(fine, single(SMALL))


def test_a_member_folder_holds_its_single_runs_records_momentum_and_time(tmp_path):
    s = Settings(dataset="square", n=60, hidden=(8,), init="he", lr=0.05, momentum=0.9, batch_size=7, epochs=2,
                 reg=0.001)  # the compiled shape of the test above: no second compile
    mine, one = str(tmp_path / "pop"), str(tmp_path / "one")
    summary = population.run_members([s, s.replace(seed=5)], [str(tmp_path / "other"), mine])[1]
    run(s.replace(seed=5), one, progress=False, log=lambda *a: None, plots=False)
    # metrics.jsonl: the single run's records (J as "objective" only), time apart
    records, theirs = (read_json(os.path.join(f, "metrics.jsonl"), lines=True) for f in (mine, one))
    assert [list(r) for r in records] == [list(r) for r in theirs]
    for a, b in zip(records, theirs):
        assert a["objective"] == pytest.approx(b["objective"], rel=1e-4, abs=1e-5)
    # the checkpoint holds the single run's momentum buffers and the member's training time
    (tensors, meta), (their_tensors, _) = (checkpoint.load(os.path.join(f, "checkpoint.safetensors")) for f in (mine, one))
    assert meta["train_seconds"] == summary["train_seconds"] > 0
    velocity, their_velocity = checkpoint.velocity_of(tensors), checkpoint.velocity_of(their_tensors)
    assert len(velocity) == len(their_velocity) == 4  # W1, b1, W2, b2
    for v, w in zip(velocity, their_velocity):
        torch.testing.assert_close(v, w, atol=1e-5, rtol=0)
    # so resumed to more epochs it ends where the single run of 4 epochs ends
    assert main(["train", "--resume", mine, "--epochs", "4"]) == 0
    four = single(s.replace(seed=5, epochs=4))
    assert RunFolder(mine).summary()["final_loss"] == pytest.approx(four["final_loss"], rel=0, abs=1e-5)


def test_without_torch_compile_the_members_run_one_by_one(monkeypatch, tmp_path):
    monkeypatch.setattr(compiled, "available", lambda net: False)  # as on a machine without a C++ compiler
    with pytest.warns(UserWarning, match="population training needs torch.compile: training the members one after"):
        fine, diverged = population.run_members([SMALL, SMALL.replace(lr=1e6)], [tmp_path / "a", tmp_path / "b"])
    assert fine == single(SMALL) | {"train_seconds": fine["train_seconds"], "machine": fine["machine"]}
    with pytest.raises(Diverged) as e:
        single(SMALL.replace(lr=1e6))
    assert diverged == RunFolder(str(tmp_path / "b")).summary()
    assert diverged["diverged"] is True and diverged["diverged_at_step"] == e.value.step


@pytest.mark.parametrize("change, message", [
    (dict(patience=2, val_fraction=0.2), "cannot vectorize patience 2 (early stopping"),
    (dict(check_steps=True), "cannot vectorize check_steps"),
    (dict(dataset="fashion-mnist"), "cannot vectorize dataset fashion-mnist"),
])
def test_settings_it_cannot_vectorize_are_refused_in_one_line(change, message):
    with pytest.raises(UsageError, match=re.escape(message)) as e:
        population.run(SMALL.replace(**change), seeds=[0, 1])
    assert "\n" not in str(e.value)


def test_members_may_differ_only_in_seed_lr_reg_noise():
    with pytest.raises(UsageError, match=r"members differ in hidden, epochs: a population may vary only seed, lr, reg, noise"):
        population.run_members([SMALL, SMALL.replace(hidden=(4,), epochs=5)])
    with pytest.raises(UsageError, match="lr has 1 values for 2 seeds: expected one per seed"):
        population.run(SMALL, seeds=[0, 1], lr=[0.1])
    with pytest.raises(UsageError, match="a population of no members"):
        population.run(SMALL, seeds=[])


def test_sweep_trains_a_population_into_ordinary_run_folders(tmp_path, capsys):
    args = ["sweep", "--lr", "0.04,0.02", "--n", "60", "--epochs", "3", "--reg-epochs", "1", "--seeds", "1"]
    assert main([*args, "--out", str(tmp_path / "pop")]) == 0
    assert "trained as one population" in capsys.readouterr().out
    assert main([*args, "--no-population", "--out", str(tmp_path / "one")]) == 0
    assert "trained as one population" not in capsys.readouterr().out
    pop, one = read_rows(tmp_path / "pop" / "runs.csv"), read_rows(tmp_path / "one" / "runs.csv")
    assert [(r["lr"], r["seed"]) for r in pop] == [(r["lr"], r["seed"]) for r in one] == [("0.04", "0"), ("0.02", "0")]
    for a, b in zip(pop, one):
        assert float(a["final_loss"]) == pytest.approx(float(b["final_loss"]), rel=1e-4)
    # each member's folder is a finished run folder: its checkpoint holds the network of its summary
    folder = tmp_path / "pop" / "runs" / "lr=0.02_seed=0"
    assert len((folder / "metrics.jsonl").read_text().splitlines()) == 3
    net, _ = checkpoint.load_model(str(folder / "checkpoint.safetensors"))
    summary = RunFolder(str(folder)).summary()
    torch.testing.assert_close(net.weights[1] @ net.weights[0], torch.tensor(summary["effective_map"]), atol=1e-6, rtol=0)
    # interrupted: a member without summary.json is trained again, the others are read back
    os.remove(folder / "summary.json")
    assert main([*args, "--out", str(tmp_path / "pop")]) == 0
    assert "2 runs (1 already done)" in capsys.readouterr().out
    again = read_rows(tmp_path / "pop" / "runs.csv")
    assert [r["final_loss"] for r in again] == [r["final_loss"] for r in pop]  # the same steps, to the bit


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


def test_the_experiments_answer_follows_the_intervals():
    change = {(0.0, 0.1): (0.5, 0.3, 0.8, 100),  # hurts: the whole interval above 0
              (1.0, 0.1): (-0.09, -0.12, -0.06, 100),  # helps
              (2.0, 0.1): (-0.02, -0.05, 0.01, 100)}  # the interval holds 0
    assert _answer(change, [0.0, 1.0, 2.0], [0.0, 0.1]) == (
        "**Answer** (clean held-out error, against λ = 0): λ helps measurably at σ = 1 (1 of 1 λ; best λ = 0.1: -9.0 %, "
        "95 % interval -12.0 to -6.0 %); no λ helps measurably at σ = 2; every λ > 0 tested hurts at σ = 0.")


@pytest.mark.slow
def test_default_runs_end_within_1e4_of_their_single_runs_on_two_processes():
    seeds = [0, 10, 87, 5]  # 10 and 87 lose units early: the runs most sensitive to rounding
    summaries = population.run(Settings(), seeds, workers=2)
    for seed, mine in zip(seeds, summaries):
        theirs = single(Settings(seed=seed))
        diff = (torch.tensor(mine["effective_map"]) - torch.tensor(theirs["effective_map"])).abs().max()
        assert diff <= 1e-4
        assert mine["dead_units"] == theirs["dead_units"]
