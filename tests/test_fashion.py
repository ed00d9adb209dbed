"""Fashion-MNIST for real, when Debian's dataset-fashion-mnist is installed (.ci/run installs it):
a few seconds of training must clear a modest floor, so a broken loss or label order shows at once."""
import os

import pytest
import torch

from baremlp import MLP, evaluate, train
from baremlp.runs import checkpoint
from baremlp.data import images
from baremlp.cli import main

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(images.FASHION_MNIST_DIR, "train-labels-idx1-ubyte.gz")),
                                reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


@pytest.fixture(scope="module")
def data():
    return images.load("fashion-mnist")


def test_one_quick_epoch_clears_the_floor(data):
    torch.manual_seed(0)
    mean, std = data.x.mean(0), data.x.std(0).clamp_min(1e-8)
    x, x_test = (data.x[:20000] - mean) / std, (data.x_test - mean) / std
    net = MLP([784, 128, 10], seed=0, init="he")
    train(net, x, data.y[:20000], loss="cross-entropy", lr=0.05, momentum=0.9, epochs=1, batch_size=128, seed=0)
    scores = evaluate(net, x_test, data.y_test, "cross-entropy")
    assert scores["accuracy"] >= 0.80, scores


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path, data):
    net = MLP([784, 32, 10], seed=1, init="he")
    train(net, data.x[:2000], data.y[:2000], loss="cross-entropy", lr=0.05, epochs=1, batch_size=64, seed=1)
    checkpoint.save(tmp_path / "c.safetensors", net, {"epoch": 1})
    loaded, _ = checkpoint.load_model(tmp_path / "c.safetensors")
    with torch.inference_mode():
        assert torch.equal(loaded(data.x_test), net(data.x_test))


def test_cli_train_evaluate_and_predict(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", "--recipe", "fashion-mnist", "--hidden", "32", "--epochs", "1", "--quiet", "--out", str(run)])
    assert code == 0
    import json
    summary = json.loads((run / "summary.json").read_text())
    assert 0.7 <= summary["test_accuracy"] <= 1
    assert len(summary["confusion_matrix"]) == 10 and sum(map(sum, summary["confusion_matrix"])) == 10000
    assert set(summary["per_class_accuracy"]) == set(images.FASHION_CLASSES)
    assert (run / "confusion.png").exists()
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run / "checkpoint.safetensors")]) == 0
    out = capsys.readouterr().out
    assert f"accuracy: {summary['test_accuracy']:.6g}" in out and "samples: 10000" in out
    pixels = ",".join(["0.5"] * 784)
    assert main(["predict", "--checkpoint", str(run / "checkpoint.safetensors"), "--input", pixels]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.startswith("class,p_T-shirt/top") and row.split(",")[0] in images.FASHION_CLASSES
