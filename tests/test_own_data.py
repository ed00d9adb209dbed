"""Your own data through the CLI: train on a CSV or NPZ, evaluate, predict from a file to CSV."""
import json

import numpy as np
import pytest

from baremlp.cli import main
from conftest import EXAMPLES


def test_iris_example_train_predict_evaluate(tmp_path, capsys):
    run = tmp_path / "iris"
    assert main(["train", "--data", str(EXAMPLES / "iris_tiny.csv"), "--target", "species", "--hidden", "8",
                 "--standardize", "--epochs", "100", "--quiet", "--out", str(run)]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["loss"] == "cross-entropy" and summary["train_accuracy"] == 1.0
    out_csv = tmp_path / "pred.csv"
    assert main(["predict", "--checkpoint", str(run / "checkpoint.safetensors"),
                 "--input-file", str(EXAMPLES / "iris_new.csv"), "--output", str(out_csv)]) == 0
    lines = out_csv.read_text().splitlines()
    assert lines[0] == "class,p_setosa,p_versicolor,p_virginica"
    assert [line.split(",")[0] for line in lines[1:]] == ["setosa", "versicolor", "virginica"]
    for line in lines[1:]:
        assert sum(float(p) for p in line.split(",")[1:]) == pytest.approx(1, abs=1e-5)
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run / "checkpoint.safetensors"), "--data", str(EXAMPLES / "iris_tiny.csv")]) == 0
    assert "accuracy: 1" in capsys.readouterr().out


def write_regression(path, n, seed, extra_column=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = x @ np.array([[0.0, 1.0], [-1.0, 0.0]])  # y = R x, batch first
    header = "a,b,out1,out2" + (",junk" if extra_column else "")
    rows = [",".join(f"{v:.6f}" for v in [*xi, *yi]) + (",1" if extra_column else "") for xi, yi in zip(x, y)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


def test_regression_csv_with_test_table(tmp_path, capsys):
    write_regression(tmp_path / "train.csv", 300, 0)
    write_regression(tmp_path / "test.csv", 100, 1)
    run = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--target", "out1,out2", "--test-data",
                 str(tmp_path / "test.csv"), "--epochs", "30", "--quiet", "--out", str(run)]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["loss"] == "mse" and summary["test_loss"] < 0.05
    assert main(["predict", "--checkpoint", str(run / "checkpoint.safetensors"), "--input", "1,0"]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()[-2:]
    assert header == "out1,out2"  # the target columns, named
    assert [float(v) for v in row.split(",")] == pytest.approx([0.0, 1.0], abs=0.15)


def test_npz_data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    assert main(["train", "--data", str(tmp_path / "d.npz"), "--hidden", "8", "--epochs", "5", "--quiet",
                 "--out", str(tmp_path / "run")]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["loss"] == "cross-entropy" and summary["train_accuracy"] > 0.9


@pytest.mark.parametrize("case, message", [
    ("missing-target", "no target column 'kind'"),
    ("test-columns", "test data columns differ from training"),
    ("no-target-flag", "target (--target) is missing"),
])
def test_bad_tables_one_line_exit_2(tmp_path, capsys, case, message):
    write_regression(tmp_path / "train.csv", 20, 0)
    write_regression(tmp_path / "test.csv", 20, 1, extra_column=True)
    argv = {"missing-target": ["--target", "kind"],
            "test-columns": ["--target", "out1,out2", "--test-data", str(tmp_path / "test.csv")],
            "no-target-flag": []}[case]
    assert main(["train", "--data", str(tmp_path / "train.csv"), *argv, "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err


def test_api_from_csv_ready_for_train():
    from baremlp import MLP, data, train
    x, y = data.from_csv(EXAMPLES / "iris_tiny.csv", target="species")
    assert x.shape == (30, 4) and y.tolist()[:1] == [0] and y.max() == 2
    h = train(MLP([4, 8, 3], seed=0), (x - x.mean(0)) / x.std(0), y, loss="cross-entropy", lr=0.05, epochs=30, seed=0)
    assert h[-1]["accuracy"] > 0.9
