"""`baremlp gradcheck` and backprop.gradcheck as a hostile user meets them: it refuses what train
refuses, by the same checks; it takes train's data flags; and on a deep net with a huge J it tells
the finite differences' own rounding error from a wrong gradient."""
import numpy as np
import pytest
import torch

from baremlp import MLP, UsageError, datasets, ops
from baremlp.backprop import gradcheck
from baremlp.cli import main
from baremlp.cli.commands import gradcheck_lines
from baremlp.runs import runner
from baremlp.runs.settings import Settings
from conftest import refused


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "square", "--loss", "mse"], "loss 'mse' does not fit class labels (y of dtype torch.int64)"),
    (["--dataset", "linear", "--loss", "cross-entropy"], "loss 'cross-entropy' does not fit real-valued targets"),
])
def test_gradcheck_refuses_what_train_refuses_with_the_same_line(capsys, argv, message):
    train_line = refused(capsys, ["train", "--epochs", "1", "--n", "50", *argv])
    assert message in train_line
    assert refused(capsys, ["gradcheck", "--n", "50", *argv]) == train_line


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
    err = refused(capsys, ["gradcheck", "--data", table, "--target", "y"])
    assert "(--drop city)" in err and "(--features)" in err  # the advice it gives ...
    for flags in (["--drop", "city"], ["--features", "x1,x2"], ["--drop", "city", "--standardize"]):
        assert main(["gradcheck", "--data", table, "--target", "y", *flags]) == 0  # ... it can follow
        out = capsys.readouterr().out
        assert "MLP([2, 3, 1]" in out and out.splitlines()[-1].startswith("all gradients agree")


def deep(init_scale, dtype=torch.float32):
    """The issue's 31-layer net (30 hidden layers of 8) on the linear data, whose J is ~1e13 at init_scale 1."""
    return MLP([2, *[8] * 30, 2], seed=0, init_scale=init_scale, dtype=dtype)


def test_a_huge_J_is_finite_differences_rounding_not_disagreement():
    x, y = datasets.linear(200, seed=0)
    result = gradcheck(deep(1.0), x, y, reg=0.01)
    rows = {r["name"]: r for r in result["rows"]}
    assert result["J"] == pytest.approx(2.68e13, rel=0.01)
    # J's float64 rounding error over the 2ε of a central difference: (L + 1) · eps · |J| / ε with L = 31 layers
    assert result["fd_error"] == pytest.approx(32 * 2.0**-52 * result["J"] / 1e-6)
    assert rows["b30"]["manual_vs_autograd"] == 0  # manual and autograd agree exactly ...
    assert 1e-4 < rows["b30"]["rel_error"] and rows["b30"]["autograd_vs_fd"] < result["fd_error"]  # ... FD cannot tell
    assert rows["b30"]["ok"] and rows["b30"]["fd_coarse"] and not rows["W0"]["fd_coarse"]
    assert result["ok"]
    lines = gradcheck_lines(result)
    assert lines[-1].startswith("all gradients agree; finite differences cannot resolve ") and "b30" in lines[-1]
    assert [line.split()[-1] for line in lines if line.startswith("b30 ")] == ["ok,FD-coarse"]


def test_a_deep_net_still_catches_a_wrong_backward(monkeypatch):
    x, y = datasets.linear(200, seed=0)
    monkeypatch.setattr(ops.ReLU, "backward", lambda self, dh: dh)  # forgot the mask
    result = gradcheck(deep(1.0), x, y, reg=0.01)
    assert not result["ok"] and not [r for r in result["rows"] if r["manual_vs_autograd"] == 0 and not r["ok"]]


def test_a_shallow_net_has_no_coarse_row():
    x, y = datasets.square(200, seed=0)
    result = gradcheck(MLP([2, 16, 8, 2], seed=0, init="he"), (x - 2) / 1.2, y, loss="cross-entropy", reg=0.01)
    assert result["ok"] and not any(r["fd_coarse"] for r in result["rows"]) and result["fd_error"] < 1e-8


def test_an_overflowing_J_is_refused_in_one_line(capsys):
    x, y = datasets.linear(200, seed=0)
    with pytest.raises(UsageError, match=r"J is inf at these weights in torch.float32: the network's outputs overflow"):
        gradcheck(deep(3.0), x, y)
    err = refused(capsys, ["gradcheck", "--hidden", ",".join(["8"] * 30), "--init-scale", "3"])
    assert "J is inf" in err and "(--init-scale)" in err
