"""What cannot work is refused before training, through the CLI (one line, exit status 2, no run folder
left behind) and through the Python API (a UsageError saying what to do)."""
import math
import os

import numpy as np
import pytest
import torch

from baremlp import MLP, UsageError, datasets, train
from baremlp.runs import runner
from baremlp.data import tables
from baremlp.cli import main
from baremlp.data.scaling import column_statistics
from baremlp.errors import UsageTypeError
from baremlp.runs.settings import Settings
from conftest import EXAMPLES, refused, write

IRIS = str(EXAMPLES / "iris_tiny.csv")


def regression_table(path, n=40, seed=0, extra=""):
    """x1, x2 and y = x1 − 2 x2 (+ an extra text column), a real-valued target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    rows = [f"{a:.4f},{b:.4f},{a - 2 * b:.4f}" + (f",{extra}{i % 3}" if extra else "") for i, (a, b) in enumerate(x)]
    return str(write(path, "x1,x2,y" + (",city" if extra else "") + "\n" + "\n".join(rows) + "\n"))


# a loss that does not fit the targets

def test_mse_on_class_labels_is_refused_before_anything_is_written(tmp_path, capsys):
    run = tmp_path / "run"
    refused(capsys, ["train", "--data", IRIS, "--target", "species", "--loss", "mse", "--out", str(run)],
            "loss 'mse' does not fit class labels (y of dtype torch.int64): use loss 'cross-entropy'")
    assert not run.exists()
    with pytest.raises(UsageError, match="loss 'mse' does not fit class labels"):  # the runner, from Python
        runner.run(Settings(data=IRIS, target="species", loss="mse"), str(run), log=lambda *a: None)
    assert not run.exists()


def test_cross_entropy_on_real_targets_is_refused(tmp_path, capsys):
    table = regression_table(tmp_path / "r.csv")
    run = tmp_path / "run"
    refused(capsys, ["train", "--data", table, "--target", "y", "--loss", "cross-entropy", "--out", str(run)],
            "loss 'cross-entropy' does not fit real-valued targets (y of dtype torch.float32, shape (40, 1)): "
            "use loss 'mse'")
    assert not run.exists()


def test_the_api_refuses_the_same_before_the_first_step():
    x, _ = datasets.linear(20, seed=0)
    labels = (x[:, 0] > 0).long()
    net = MLP([2, 3, 2], seed=0)
    before = [p.detach().clone() for p in net.parameters]
    # batch_size=1 is where mse broadcast (1, 2) against (1,) and trained silently
    with pytest.raises(UsageError, match="loss 'mse' does not fit class labels"):
        train(net, x, labels, loss="mse", batch_size=1, epochs=1)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters))
    with pytest.raises(UsageError, match="cross-entropy needs class indices of an integer dtype, but y is "
                                         r"torch.float32: pass y.long\(\)"):
        train(net, x, labels.float(), loss="cross-entropy", epochs=1)
    with pytest.raises(UsageError, match="loss 'cross-entropy' does not fit real-valued targets"):
        train(net, x, x, loss="cross-entropy", epochs=1)
    # rows of class probabilities are what cross-entropy's float form is for: accepted
    h = train(net, x, torch.nn.functional.one_hot(labels, 2).float(), loss="cross-entropy", epochs=1, seed=0)
    assert math.isfinite(h[0]["objective"])


def test_api_mistakes_say_what_to_do():
    x, y = datasets.linear(10, seed=0)
    with pytest.raises(UsageError, match=r"x requires grad: data is not a parameter, pass x.detach\(\)"):
        train(MLP([2, 3, 2]), x.requires_grad_(), y)
    with pytest.raises(UsageTypeError, match=r"sizes '2,3,2' invalid: expected a list of whole layer sizes, "
                                             r"e.g. MLP\(\[2, 3, 2\]\)"):
        MLP("2,3,2")
    with pytest.raises(UsageTypeError, match=r"sizes \[2, 3.5, 2\] invalid"):
        MLP([2, 3.5, 2])


# more classes than rows can teach

def test_many_classes_from_few_rows_are_refused_naming_regression(tmp_path, capsys):
    rows = "".join(f"{i},{(i * 7919) % 1000 / 10:.1f}\n" for i in range(80))  # 80 distinct values in 80 rows
    table = str(write(tmp_path / "m.csv", "x,y\n" + rows))
    run = tmp_path / "run"
    refused(capsys, ["train", "--data", table, "--target", "y", "--task", "classification", "--out", str(run)],
            "column 'y' holds 80 classes in 80 rows, fewer than 2 rows per class, too few to learn them; "
            "if its values are quantities to predict, use task 'regression' (--task regression)")
    assert not run.exists()
    with pytest.raises(UsageError, match="holds 80 classes in 80 rows"):  # the same through the API
        runner.run(Settings(data=table, target="y", task="classification"), str(run), log=lambda *a: None)
    assert not run.exists()
    # 2 rows per class is where it starts to be allowed
    ok = str(write(tmp_path / "ok.csv", "x,y\n" + "".join(f"{i},{i % 20}\n" for i in range(40))))
    assert main(["train", "--data", ok, "--target", "y", "--epochs", "1", "--quiet"]) == 0


# text columns: --features and --drop

def test_a_text_column_is_named_with_the_way_out(tmp_path, capsys):
    table = regression_table(tmp_path / "c.csv", extra="Paris")
    refused(capsys, ["train", "--data", table, "--target", "y", "--epochs", "1"],
            "row 2, column 'city': 'Paris0' is not a number (leave the column out with drop='city' (--drop city), "
            "or choose the inputs with features (--features))")
    run = tmp_path / "run"
    assert main(["train", "--data", table, "--target", "y", "--drop", "city", "--test-data", table,
                 "--epochs", "2", "--quiet", "--out", str(run)]) == 0
    assert main(["predict", "--checkpoint", str(run / "checkpoint.safetensors"), "--input-file", table,
                 "--output", str(tmp_path / "p.csv")]) == 0  # the text column is ignored there too
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 41
    assert main(["train", "--data", table, "--target", "y", "--features", "x2", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "one")]) == 0
    capsys.readouterr()
    assert main(["predict", "--checkpoint", str(tmp_path / "one" / "checkpoint.safetensors"), "--input", "1,2"]) == 2
    assert "the network expects 1 (x2)" in capsys.readouterr().err
    refused(capsys, ["train", "--data", table, "--target", "y", "--features", "x1,town"],
            "no features column 'town'; the columns are 'x1', 'x2', 'y', 'city'")
    refused(capsys, ["train", "--data", table, "--target", "y", "--features", "x1,y"],
            "features 'x1', 'y' name a target or a dropped column")
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 2)), y=np.arange(4.0))
    refused(capsys, ["train", "--data", str(tmp_path / "d.npz"), "--drop", "x0"],
            "features and drop (--features, --drop) choose columns of a CSV table")


def test_api_features_and_drop():
    t = tables.from_csv(IRIS, "species", drop="sepal_width, petal_width")
    assert t.inputs == ["sepal_length", "petal_length"] and t.x.shape == (30, 2)
    t = tables.from_csv(IRIS, "species", features=["petal_width", "sepal_length"])
    assert t.inputs == ["petal_width", "sepal_length"] and t.x[0].tolist() == pytest.approx([0.2, 5.1])


# --standardize on a column it cannot scale

def test_standardize_names_a_constant_column(tmp_path, capsys):
    table = str(write(tmp_path / "k.csv", "a,k,y\n" + "".join(f"{i},5,{i % 2}\n" for i in range(20))))
    assert main(["train", "--data", table, "--target", "y", "--standardize", "--epochs", "1", "--quiet"]) == 0
    assert ("note: standardize: input column(s) 'k' are constant in the training split, so they become 0"
            in capsys.readouterr().err)


def test_standardize_refuses_a_column_too_large_to_scale(tmp_path, capsys):
    table = str(write(tmp_path / "big.csv", "a,y\n" + "".join(f"{(-1) ** i * 1e300},{i}.5\n" for i in range(20))))
    refused(capsys, ["train", "--data", table, "--target", "y", "--standardize", "--dtype", "float64",
                     "--out", str(tmp_path / "run")],
            "standardize: input column 'a' is too large to scale in torch.float64 (values up to 1e+300)")
    assert not (tmp_path / "run").exists()


def test_column_statistics_in_float64_where_float32_sums_overflow():
    t = torch.full((100_000, 2), 3e37)  # the float32 sum of a column is inf
    t[::2, 1] = -3e37
    with pytest.warns(UserWarning, match="input column.s. 'a' are constant"):
        mean, std = column_statistics(t, ["a", "b"], "input")
    assert mean.tolist() == pytest.approx([3e37, 0.0]) and std.tolist() == pytest.approx([1.0, 3e37])


# --out and --output where nothing can be written

def test_out_that_is_a_file_a_read_only_place_or_someone_elses_folder(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    refused(capsys, ["train", "--n", "20", "--epochs", "1", "--out", str(afile)], f"{afile} is a file")
    assert afile.read_text() == "keep me"
    # /sys refuses new entries even to root, which chmod would not stop
    refused(capsys, ["train", "--n", "20", "--epochs", "1", "--out", "/sys/baremlp-run"],
            "cannot write the folder /sys/baremlp-run: /sys is not writable")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    refused(capsys, ["train", "--n", "20", "--epochs", "1", "--out", str(mine)],
            f"{mine} holds other files and no run: choose a new or empty folder")
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert main(["train", "--n", "20", "--epochs", "1", "--quiet", "--out", str(mine), "--overwrite"]) == 0
    assert (mine / "notes.txt").read_text() == "mine" and (mine / "summary.json").exists()


@pytest.mark.skipif(not os.path.isdir("/sys"), reason="needs Linux's /sys")
def test_api_refuses_an_unwritable_out_before_loading_data():
    with pytest.raises(UsageError, match="cannot write the folder /sys/x: /sys is not writable"):
        runner.run(Settings(n=20, epochs=1), "/sys/x", log=lambda *a: None)


def test_predict_output_errors_name_the_path_not_a_temporary_file(tmp_path, capsys):
    runner.run(Settings(n=20, epochs=1), str(tmp_path / "run"), log=lambda *a: None, progress=False, plots=False)
    ckpt = str(tmp_path / "run" / "checkpoint.safetensors")
    err = refused(capsys, ["predict", "--checkpoint", ckpt, "--input", "1,2", "--output", "/sys/pred.csv"],
                  "cannot write /sys/pred.csv: Permission denied")
    assert ".tmp" not in err
    refused(capsys, ["predict", "--checkpoint", ckpt, "--input", "1,2", "--output", str(tmp_path)],
            f"cannot write {tmp_path}: it is a folder, expected a file name")
