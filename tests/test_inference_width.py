"""Issue 22, item 1: a checkpoint's entry points check the data's columns against the network
before anything else (before standardizing, which would broadcast a wrong width into a score)."""
import numpy as np
import pytest

from baremlp.cli import main
from baremlp.errors import UsageError
from baremlp.runs.inference import evaluate_checkpoint, predict


@pytest.fixture(scope="module")
def standardized(tmp_path_factory):
    """A checkpoint of a 2-input classifier trained with --standardize, and tables of 1, 2 and 3 columns."""
    folder = tmp_path_factory.mktemp("width")
    x = np.random.default_rng(0).standard_normal((100, 2))
    y = x[:, 0] > 0
    np.savez(folder / "tr2.npz", x=x, y=y)
    for width, cols in ((1, x[:, :1]), (3, np.c_[x, x[:, :1]])):
        np.savez(folder / f"te{width}.npz", x=cols, y=y)
        np.save(folder / f"in{width}.npy", cols)
    assert main(["train", "--data", str(folder / "tr2.npz"), "--standardize", "--hidden", "4", "--epochs", "3",
                 "--out", str(folder / "o"),
                 "--quiet"]) == 0
    return folder


@pytest.mark.parametrize("width", [1, 3])
def test_evaluate_refuses_a_table_of_the_wrong_width(standardized, width):
    with pytest.raises(UsageError, match=rf"^data .*te{width}.npz has {width} values? per sample but the network "
                                         r"expects 2 \(x0, x1\)$"):
        evaluate_checkpoint(standardized / "o" / "checkpoint.safetensors", data=str(standardized / f"te{width}.npz"))


@pytest.mark.parametrize("width", [1, 3])
def test_the_cli_says_it_in_one_line_with_status_2(standardized, width, capsys):
    status = main(["evaluate", "--checkpoint", str(standardized / "o" / "checkpoint.safetensors"),
                   "--data", str(standardized / f"te{width}.npz")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "the network expects 2" in err, err


def test_evaluate_and_predict_still_score_the_right_width(standardized):
    path = standardized / "o" / "checkpoint.safetensors"
    scores = evaluate_checkpoint(path, data=str(standardized / "tr2.npz"))
    assert scores["samples"] == 100 and 0.5 < scores["accuracy"] <= 1.0
    header, rows = predict(path, values="0.5,-1")
    assert header == ["class", "p_False", "p_True"] and len(rows) == 1


@pytest.mark.parametrize("width", [1, 3])
def test_predict_refuses_the_wrong_width_by_the_same_check(standardized, width):
    values = ",".join(["0.5"] * width)
    with pytest.raises(UsageError, match=rf"^input has {width} values? per sample but the network expects 2 \(x0, x1\)$"):
        predict(standardized / "o" / "checkpoint.safetensors", values=values)
