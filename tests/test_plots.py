"""Every plot function writes a real, readable PNG atomically; write_run_plots picks the plots that apply;
the figures name J, L and the target columns, and read J under its older name too."""
import math
import os

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from baremlp.runs import plots
from baremlp.analysis import effective_map
from baremlp.datasets import R, linear, square
from baremlp.model import MLP
from baremlp.data import Data
from baremlp.train import train
from baremlp.runs import runner
from baremlp.runs.settings import Settings

# a missing glyph (an exotic Unicode character in a label) shows as a box: fail instead
pytestmark = pytest.mark.filterwarnings("error:Glyph:UserWarning")


def assert_png(path):
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(b"\x89PNG"), path
    assert len(data) > 1024, path
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100, img.shape
    assert not [n for n in os.listdir(os.path.dirname(path)) if n.endswith(".tmp")]
    assert not plt.get_fignums(), "a figure was left open"


def records(epochs=6, *, accuracy=False, val=False, maps=False):
    out = []
    for e in range(1, epochs + 1):
        r = {"epoch": e, "loss": 2.0 * 0.5 ** e, "lr": 0.1, "reg": 0.0, "time": 0.01 * e}
        if val:
            r["val_loss"] = 2.2 * 0.6 ** e
        if accuracy:
            r["accuracy"] = 1 - 0.5 / e
            if val:
                r["val_accuracy"] = 1 - 0.6 / e
        if maps:
            r["effective_map"] = (R + 0.8 ** e * torch.tensor([[0.3, 0.2], [-0.1, 0.4]])).tolist()
        out.append(r)
    return out


@pytest.mark.parametrize("kwargs", [{}, {"val": True}, {"accuracy": True, "val": True}])
def test_loss_curves(tmp_path, kwargs):
    path = tmp_path / "loss.png"
    assert plots.loss_curves(records(**kwargs), path) == os.fspath(path)
    assert_png(path)


def test_loss_curves_tolerates_gaps_and_non_positive_values(tmp_path):
    recs = records(5, val=True)
    recs[0].pop("val_loss")  # validation switched on later, e.g. a resumed run
    recs[-1]["loss"] = math.inf  # a diverged last epoch
    recs[2]["val_loss"] = 0.0  # no log scale possible
    assert_png(plots.loss_curves(recs, tmp_path / "loss.png"))


def test_loss_curves_without_records_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no epoch records"):
        plots.loss_curves([], tmp_path / "loss.png")
    assert not os.listdir(tmp_path)


def test_map_entries(tmp_path):
    assert_png(plots.map_entries(records(20, maps=True), tmp_path / "map.png"))


def test_map_entries_reaching_the_target_exactly(tmp_path):
    recs = records(3, maps=True)
    recs[-1]["effective_map"] = R.tolist()  # error 0: the error panel cannot be log-scaled
    assert_png(plots.map_entries(recs, tmp_path / "map.png"))


def test_map_entries_rejects_a_mismatched_target(tmp_path):
    with pytest.raises(ValueError, match="does not match"):
        plots.map_entries(records(3, maps=True), tmp_path / "map.png", target=torch.eye(3))


def test_function_2d_regression(tmp_path):
    x, y = linear(200, seed=0)
    net = MLP([2, 3, 2], seed=0)
    train(net, x, y, loss="mse", lr=0.05, epochs=2, batch_size=10, seed=0, progress=False)
    assert_png(plots.function_2d(net, x, y, tmp_path / "function.png"))


def test_function_2d_classification(tmp_path):
    x, y = square(300, seed=0)
    net = MLP([2, 8, 2], seed=0, init="he")
    assert_png(plots.function_2d(net, x, y, tmp_path / "function.png", classes=["outside", "inside"]))


def test_function_2d_float64_net(tmp_path):
    x, y = linear(50, seed=1)
    net = MLP([2, 4, 2], seed=1, dtype=torch.float64)
    assert_png(plots.function_2d(net, x, y, tmp_path / "function.png"))


def test_function_2d_rejects_other_input_sizes(tmp_path):
    with pytest.raises(ValueError, match="2-D inputs"):
        plots.function_2d(MLP([3, 2], seed=0), torch.zeros(5, 3), torch.zeros(5, 2), tmp_path / "f.png")


def test_confusion(tmp_path):
    m = [[50, 3, 0], [4, 40, 6], [0, 2, 45]]
    assert_png(plots.confusion(m, ["setosa", "versicolor", "virginica"], tmp_path / "confusion.png"))


def test_confusion_rejects_a_mismatched_class_list(tmp_path):
    with pytest.raises(ValueError, match="does not match 2 classes"):
        plots.confusion([[1, 0, 0], [0, 1, 0], [0, 0, 1]], ["a", "b"], tmp_path / "c.png")


@pytest.mark.parametrize("log", [False, True])
def test_heatmap(tmp_path, log):
    table = [[0.5, 0.02, 1e-4], [float("nan"), 0.3, 2e-3]]
    path = plots.heatmap(table, ["lr 0.1", "lr 0.01"], [1, 8, 64], tmp_path / "sweep.png",
                         title="final loss by learning rate and batch size", cbar_label="final loss", log=log)
    assert_png(path)


def test_write_run_plots_regression_with_effective_map(tmp_path):
    x, y = linear(100, seed=0)
    net = MLP([2, 3, 2], seed=0)
    recs = records(4, maps=True)
    summary = {"final_loss": 0.1, "effective_map": effective_map(net).tolist()}
    paths = plots.write_run_plots(tmp_path, net, Data(x, y), recs, summary)
    assert sorted(os.path.basename(p) for p in paths) == ["effective_map.png", "function.png", "loss.png"]
    assert sorted(os.listdir(tmp_path)) == ["effective_map.png", "function.png", "loss.png"]
    for p in paths:
        assert_png(p)


def test_write_run_plots_classification_with_confusion(tmp_path):
    x, y = square(200, seed=0)
    data = Data(x, y, classes=["outside", "inside"])
    net = MLP([2, 6, 2], seed=0, init="he")
    summary = {"final_loss": 0.4, "classes": data.classes, "confusion_matrix": [[120, 10], [30, 40]]}
    paths = plots.write_run_plots(tmp_path, net, data, records(3, accuracy=True), summary)
    assert sorted(os.listdir(tmp_path)) == ["confusion.png", "function.png", "loss.png"]
    for p in paths:
        assert_png(p)


def test_write_run_plots_skips_what_does_not_apply(tmp_path):
    x = torch.randn(30, 4, generator=torch.Generator().manual_seed(0))
    data = Data(x, torch.randn(30, 1, generator=torch.Generator().manual_seed(1)))
    paths = plots.write_run_plots(tmp_path, MLP([4, 3, 1], seed=0), data, records(3), {"final_loss": 1.0})
    assert [os.path.basename(p) for p in paths] == ["loss.png"]
    assert os.listdir(tmp_path) == ["loss.png"]
    assert_png(paths[0])


def test_plots_read_j_under_either_name():
    assert plots.objective({"epoch": 1, "objective": 2.0}) == 2.0
    assert plots.objective({"epoch": 1, "loss": 3.0}) == 3.0  # a run folder of an older version


def test_plots_name_j_l_and_the_target_columns(tmp_path, monkeypatch):
    """The figures themselves, caught before they are written: loss.png names J and L apart; function.png
    names the target column and shows it in the data's units."""
    figures = {}
    save = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.setdefault(os.path.basename(path), fig)
                        and save(fig, path))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    table = tmp_path / "t.csv"
    table.write_text("a,b,price\n" + "".join(f"{p:.4f},{q:.4f},{300 + 50 * p:.4f}\n" for p, q in x))
    runner.run(Settings(data=str(table), target="price", standardize=True, val_fraction=0.25, epochs=2),
               str(tmp_path / "run"), log=lambda *a: None, progress=False)
    legend = [t.get_text() for t in figures["loss.png"].axes[0].get_legend().get_texts()]
    assert legend == ["J = L + λ Σ‖W‖², training (mean over the epoch's steps)", "L, validation (after the epoch)"]
    ax, colorbar = figures["function.png"].axes
    assert ax.get_title() == "learned price(x); dots: price of the samples" and colorbar.get_ylabel() == "price"
    dots = ax.collections[-1].get_array()  # the samples' colours: their prices, not standardized values
    prices = 300 + 50 * x[:, 0]
    assert len(dots) == 30 and all(np.abs(prices - d).min() < 1e-3 for d in dots)
