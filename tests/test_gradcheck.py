"""`baremlp gradcheck` and backprop.gradcheck as a hostile user meets them: it refuses what train
refuses, by the same checks; it takes train's data flags; and on a deep net with a huge J it tells
the finite differences' own rounding error from a wrong gradient."""
import numpy as np
import pytest
import torch

from baremlp import MLP, UsageError, datasets, ops
from baremlp.backprop import gradcheck
from baremlp.cli import main
from baremlp.runs import runner
from baremlp.runs.settings import Settings


def one_line_error(capsys, argv):
    """Runs the CLI; asserts exit status 2 and one line 'error: ...'; returns that line."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured
    return captured.err


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "square", "--loss", "mse"], "loss 'mse' does not fit class labels (y of dtype torch.int64)"),
    (["--dataset", "linear", "--loss", "cross-entropy"], "loss 'cross-entropy' does not fit real-valued targets"),
])
def test_gradcheck_refuses_what_train_refuses_with_the_same_line(capsys, argv, message):
    train_line = one_line_error(capsys, ["train", "--epochs", "1", "--n", "50", *argv])
    assert message in train_line
    assert one_line_error(capsys, ["gradcheck", "--n", "50", *argv]) == train_line


def test_gradcheck_in_python_refuses_a_loss_that_does_not_fit():
    x, y = datasets.square(40, seed=0)  # class labels (N,)
    with pytest.raises(UsageError, match="loss 'mse' does not fit class labels"):
        gradcheck(MLP([2, 4, 2]), x, y, loss="mse")
    with pytest.raises(UsageError, match="loss 'mse' does not fit class labels"):
        runner.gradcheck(Settings(dataset="square", loss="mse", n=40))


def city_table(path):
    """x1, x2, y = x1 − 2 x2 and a text column 'city' that no network can read."""
    x = np.random.default_rng(0).normal(size=(40, 2))
    path.write_text("x1,x2,y,city\n" + "".join(f"{a:.4f},{b:.4f},{a - 2 * b:.4f},c{i % 3}\n"
                                               for i, (a, b) in enumerate(x)))
    return str(path)


def test_gradcheck_takes_the_data_flags_it_suggests(tmp_path, capsys):
    table = city_table(tmp_path / "t.csv")
    err = one_line_error(capsys, ["gradcheck", "--data", table, "--target", "y"])
    assert "(--drop city)" in err and "(--features)" in err  # the advice it gives ...
    for flags in (["--drop", "city"], ["--features", "x1,x2"], ["--drop", "city", "--standardize"]):
        assert main(["gradcheck", "--data", table, "--target", "y", *flags]) == 0  # ... it can follow
        out = capsys.readouterr().out
        assert "MLP([2, 3, 1]" in out and out.splitlines()[-1].startswith("all gradients agree")
