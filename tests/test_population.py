"""Population training: every member ends where its own single run (runner.run, the eager loop) ends;
a population over the memory cap is refused, one under it trains in chunks, and an interrupted
population sweep keeps its finished chunks (issue 22, items 11 and 12).

The populations here are small (two members, 40-60 samples, a few epochs) and share one shape, so that
torch.compile compiles them once; the full-length check and the multi-process ones are marked slow.
The tests that train a population take the fixture compiled_ok (conftest.py), which skips them where
torch.compile cannot run."""
import os
import re

import pytest
import torch

from baremlp import UsageError
from baremlp.runs import checkpoint
from baremlp.engines import compiled
from baremlp.studies import population
from baremlp.cli import main
from baremlp.runs.files import read_json
from baremlp.runs.folder import RunFolder
from baremlp.runs.runner import run
from baremlp.runs.settings import Settings
from baremlp.train import Diverged
from conftest import read_rows

SMALL = Settings(n=60, epochs=3, reg_epochs=1)  # the rotation data, per-sample SGD, λ for one epoch


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


def test_members_end_where_their_single_runs_end(compiled_ok):
    summaries = population.run(SMALL, seeds=[3, 0])
    for seed, mine in zip([3, 0], summaries):
        assert_same_run(mine, single(SMALL.replace(seed=seed)))
    assert summaries[0]["population"]["size"] == 2
    assert summaries[0]["effective_map"] != summaries[1]["effective_map"]  # two seeds, two networks


def test_members_with_their_own_lr_reg_and_noise(monkeypatch, compiled_ok):
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
def test_classification_with_momentum_a_schedule_and_a_partial_batch(compiled_ok):
    s = Settings(dataset="square", n=60, hidden=(8,), init="he", lr=0.05, momentum=0.9, schedule="cosine",
                 batch_size=7, epochs=2, reg=0.001)  # 7 does not divide 60: a last batch of 4
    summaries = population.run(s, seeds=[0, 5])
    for seed, mine in zip([0, 5], summaries):
        assert_same_run(mine, single(s.replace(seed=seed)))
        assert "confusion_matrix" in mine


def test_a_diverged_member_is_recorded_and_the_others_go_on(tmp_path, compiled_ok):
    diverged, fine = population.run(SMALL, seeds=[0, 0], lr=[1e6, 0.04])
    with pytest.raises(Diverged):
        run(SMALL.replace(lr=1e6), str(tmp_path), progress=False, log=lambda *a: None)
    theirs = RunFolder(str(tmp_path)).summary()  # what a single run that diverged says of itself
    assert diverged["diverged"] is True
    assert diverged == theirs | {"train_seconds": diverged["train_seconds"]}
    assert_same_run(fine, single(SMALL))


def test_a_member_folder_holds_its_single_runs_records_momentum_and_time(tmp_path, compiled_ok):
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


# a sweep of populations
def test_sweep_trains_a_population_into_ordinary_run_folders(tmp_path, capsys, compiled_ok):
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


@pytest.mark.slow
def test_default_runs_end_within_1e4_of_their_single_runs_on_two_processes(compiled_ok):
    seeds = [0, 10, 87, 5]  # 10 and 87 lose units early: the runs most sensitive to rounding
    summaries = population.run(Settings(), seeds, workers=2)
    for seed, mine in zip(seeds, summaries):
        theirs = single(Settings(seed=seed))
        diff = (torch.tensor(mine["effective_map"]) - torch.tensor(theirs["effective_map"])).abs().max()
        assert diff <= 1e-4
        assert mine["dead_units"] == theirs["dead_units"]
