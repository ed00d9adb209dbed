"""The command line as a user meets it: the run folder (with paths that work from any folder), the report,
predict's inputs and outputs, and one-line errors."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch

from baremlp.runs import checkpoint
from baremlp.cli import main
from conftest import EXE, run_cli, run_quietly, summary_of

FAST = ["--n", "200", "--epochs", "2"]


def test_train_writes_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = run_cli(capsys, "train", "--dataset", "linear", *FAST, "--out", str(out))
    assert code == 0
    assert "A = M W (column convention" in stdout and "max |A − R|" in stdout
    config = json.loads((out / "config.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert config["epochs"] == 2 and config["n"] == 200 and config["hidden"] == [3]
    for key in ("final_loss", "effective_map", "effective_map_error", "relu_active_fraction"):
        assert key in summary
    A = summary["effective_map"]
    assert len(A) == 2 and len(A[0]) == 2
    assert summary["effective_map_error"] == pytest.approx(max(abs(A[0][0]), abs(A[0][1] + 1), abs(A[1][0] - 1), abs(A[1][1])))
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    assert (out / "checkpoint.safetensors").stat().st_size > 0
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]


def test_config_repeats_the_run(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    run_cli(capsys, "train", *FAST, "--seed", "4", "--out", str(first))
    run_cli(capsys, "train", "--recipe", str(first / "config.json"), "--out", str(second))
    a = json.loads((first / "summary.json").read_text())
    b = json.loads((second / "summary.json").read_text())
    assert a["final_loss"] == b["final_loss"] and a["effective_map"] == b["effective_map"]


def test_predict_and_evaluate(tmp_path, capsys):
    run_cli(capsys, "train", *FAST, "--out", str(tmp_path))
    path = tmp_path / "checkpoint.safetensors"
    code, out, _ = run_cli(capsys, "predict", "--checkpoint", str(path), "--input", "0.5,-1.2")
    net, _ = checkpoint.load_model(path)
    v = net(torch.tensor([[0.5, -1.2]])).tolist()[0]  # the network's own outputs, 6 significant digits
    assert code == 0 and out.splitlines() == ["y1,y2", ",".join(str(float(f"{a:.6g}")) for a in v)]
    code, out, _ = run_cli(capsys, "evaluate", "--checkpoint", str(path))
    summary = json.loads((tmp_path / "summary.json").read_text())  # evaluate defaults to the run's test split
    assert code == 0 and f"loss: {summary['test_loss']:.6g}" in out and "samples: 200" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "--lr", "-1"], "lr -1.0 invalid: expected a finite number > 0"),
    (["train", "--lr", "nan"], "lr nan invalid"),
    (["train", "--lr", "abc"], "invalid float value: 'abc'"),
    (["train", "--reg", "-0.1"], "reg -0.1 invalid"),
    (["train", "--hidden", "0"], "hidden '0' invalid"),
    (["train", "--hidden", "3,x"], "hidden '3,x' invalid"),
    (["train", "--epochs", "0"], "epochs 0 invalid"),
    (["train", "--batch-size", "0"], "batch_size 0 invalid"),
    (["train", "--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["train", "--recipe", "nope"], "recipe 'nope' unknown"),
    (["train", "--dtype", "float16"], "invalid choice: 'float16'"),
    (["train", "--device", "tpu"], "device 'tpu' unknown"),
    (["train", "--momentum", "1"], "momentum 1.0 invalid"),
    (["train", "--resume", "/nonexistent/run"], "has no config.json"),
    (["predict", "--checkpoint", "/nonexistent.safetensors", "--input", "1,2"], "cannot be read"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_input_one_line_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert "Traceback" not in err


def test_predict_wrong_width(tmp_path, capsys):
    run_cli(capsys, "train", *FAST, "--out", str(tmp_path))
    code, _, err = run_cli(capsys, "predict", "--checkpoint", str(tmp_path / "checkpoint.safetensors"), "--input", "1,2,3")
    assert code == 2 and "input has 3 values per sample but the network expects 2" in err


def test_console_script_help_and_error():
    done = subprocess.run([EXE, "train", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "usage: baremlp train" in done.stdout
    done = subprocess.run([EXE, "train", "--epochs", "-3"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr == "error: epochs -3 invalid: expected a whole number ≥ 1\n"


@pytest.mark.parametrize("command", ["evaluate", "predict", "gradcheck", "sweep", "experiment"])
def test_help_of_every_command(capsys, command):  # in this process: a console script's start costs seconds
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith(f"usage: baremlp {command}")


def test_evaluate_reproduces_the_summary_test_loss(tmp_path, capsys):
    run_cli(capsys, "train", *FAST, "--out", str(tmp_path))
    summary = json.loads((tmp_path / "summary.json").read_text())
    code, out, _ = run_cli(capsys, "evaluate", "--checkpoint", str(tmp_path / "checkpoint.safetensors"))
    assert code == 0 and f"loss: {summary['test_loss']:.6g}" in out


def test_evaluate_refuses_a_mismatched_data_set(tmp_path, capsys):
    run_cli(capsys, "train", *FAST, "--out", str(tmp_path))
    code, _, err = run_cli(capsys, "evaluate", "--checkpoint", str(tmp_path / "checkpoint.safetensors"), "--dataset", "square")
    assert code == 2 and err == "error: this network was trained for regression, but the data holds class labels\n"


def test_a_run_folder_with_relative_paths_works_from_any_folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for name, n in (("train.csv", 60), ("test.csv", 20)):
        x = rng.normal(size=(n, 2))
        (data / name).write_text("a,b,y\n" + "".join(f"{p:.4f},{q:.4f},{p - q:.4f}\n" for p, q in x))
    monkeypatch.chdir(data)
    assert main(["train", "--data", "train.csv", "--test-data", "test.csv", "--target", "y", "--epochs", "2",
                 "--quiet", "--out", "../run"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"] == str(data / "train.csv") and config["test_data"] == str(data / "test.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", "--checkpoint", "../run/checkpoint.safetensors"]) == 0
    assert main(["train", "--resume", "../run", "--epochs", "3"]) == 0
    assert summary_of(tmp_path / "run")["epochs_run"] == 3


def test_predict_takes_negative_numbers_and_names_its_columns(tmp_path, capsys):
    run = tmp_path / "run"
    run_quietly(run, n=100, epochs=2)
    net, _ = checkpoint.load_model(run / "checkpoint.safetensors")
    for text, values in (("-1,2", [-1.0, 2.0]), ("-1e-3,-2.5", [-1e-3, -2.5])):
        assert main(["predict", "--checkpoint", str(run / "checkpoint.safetensors"), "--input", text]) == 0
        header, row = capsys.readouterr().out.splitlines()
        expected = net(torch.tensor([values]))[0].tolist()
        assert header == "y1,y2" and [float(v) for v in row.split(",")] == pytest.approx(expected, rel=1e-5)
