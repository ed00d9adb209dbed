"""Every bad input a user can give, through the Python API and the CLI: the same one-line message,
UsageError (a ValueError; UsageTypeError, a TypeError too, for a wrong type) from the API, exit status 2
(usage) or 1 (a failure while running) from the CLI."""
import json
import math

import pytest
import torch

from baremlp import MLP, UsageError, datasets, train
from baremlp.runs import runner
from baremlp.errors import UsageTypeError
from baremlp.cli import main
from baremlp.model import resolve_device
from conftest import refused

x, y = datasets.linear(20, seed=0)
labels = torch.zeros(20, dtype=torch.long)


def fit(**kwargs):
    args = dict(net=MLP([2, 3, 2], seed=0), x=x, y=y, lr=0.01, epochs=1)
    args.update(kwargs)
    net, xx, yy = args.pop("net"), args.pop("x"), args.pop("y")
    return train(net, xx, yy, **args)


def nan_x():
    bad = x.clone()
    bad[3, 1] = math.nan
    return bad


API = [
    (lambda: fit(lr=-0.1), ValueError, "lr -0.1 invalid: expected a finite number > 0"),
    (lambda: fit(lr=math.inf), ValueError, "lr inf invalid"),
    (lambda: fit(lr="0.1"), TypeError, "lr '0.1' invalid: expected a finite number"),
    (lambda: fit(reg=-1.0), ValueError, "reg -1.0 invalid: expected a finite number ≥ 0"),
    (lambda: fit(epochs=0), ValueError, "epochs 0 invalid: expected a whole number ≥ 1"),
    (lambda: fit(epochs=2.5), TypeError, "epochs 2.5 invalid: expected a whole number"),
    (lambda: fit(batch_size=0), ValueError, "batch_size 0 invalid"),
    (lambda: fit(momentum=1.0), ValueError, "momentum 1.0 invalid"),
    (lambda: fit(loss="hinge"), ValueError, "loss 'hinge' unknown: expected one of mse, cross-entropy"),
    (lambda: fit(schedule="linear"), ValueError, "schedule 'linear' unknown"),
    (lambda: fit(engine="jit"), ValueError, "engine 'jit' unknown"),
    (lambda: fit(x=nan_x()), ValueError, "x holds NaN, infinite or non-real values"),
    (lambda: fit(y=y[:10]), ValueError, "x has 20 samples but y has 10"),
    (lambda: fit(x=torch.randn(20, 3)), ValueError, r"x of shape \(20, 3\) invalid: the network expects \(N, 2\)"),
    (lambda: fit(y=torch.randn(20, 4)), ValueError, r"y of shape \(20, 4\) invalid: the network's outputs are \(N, 2\)"),
    (lambda: fit(y=labels + 5, loss="cross-entropy"), ValueError, "class labels from 5 to 5 invalid"),
    (lambda: fit(x=[[1.0, 2.0]]), TypeError, "x of type list invalid: expected a torch.Tensor"),
    (lambda: MLP([2, 0, 2]), ValueError, r"sizes \[2, 0, 2\] invalid"),
    (lambda: MLP([2, 3, 2], init="xavier"), ValueError, "init 'xavier' unknown"),
    (lambda: datasets.linear(0), ValueError, "n 0 invalid"),
]


@pytest.mark.parametrize("call, error, message", API)
def test_api_errors(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert isinstance(raised.value, UsageTypeError if error is TypeError else UsageError)


@pytest.mark.parametrize("error", [ValueError, TypeError, KeyError])
def test_a_bug_is_not_reported_as_a_usage_error(monkeypatch, capsys, error):
    # an exception that is not a UsageError comes from our code or a library, not from the user
    def broken(*args, **kwargs):
        raise error("internal mix-up")
    monkeypatch.setattr(runner, "run", broken)
    assert main(["train", "--epochs", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {error.__name__}: ") and "internal mix-up" in err and "a bug, not your input" in err
    assert err.count("\n") == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_where_none_exists(capsys):
    with pytest.raises(ValueError, match="device 'cuda' asked for, but CUDA is not available here"):
        resolve_device("cuda")
    assert main(["train", "--device", "cuda", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == "error: device 'cuda' asked for, but CUDA is not available here; use 'cpu' or 'auto'\n"


def test_batch_larger_than_data_is_clamped_with_a_note(capsys):
    assert main(["train", "--n", "50", "--batch-size", "64", "--epochs", "1", "--quiet"]) == 0
    assert "note: batch_size 64 is larger than the 50 samples: using 50" in capsys.readouterr().err


def test_divergence_exits_1_and_names_the_step(tmp_path, capsys):
    code = main(["train", "--lr", "1e6", "--n", "50", "--epochs", "2", "--quiet", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: training diverged: the objective became non-finite at step ")
    assert "try a smaller learning rate than 1e+06" in err and err.count("\n") == 1


def test_damaged_run_files_are_the_users_to_fix(tmp_path, capsys):
    """A run folder or recipe damaged on disk is named in one line (exit 2), never reported as a bug."""
    run = tmp_path / "run"
    assert main(["train", "--n", "40", "--epochs", "2", "--quiet", "--out", str(run)]) == 0
    (run / "summary.json").unlink()  # as if killed before the end
    (run / "metrics.jsonl").write_text('{"epoch": 1}\n{"epo')
    refused(capsys, ["train", "--resume", str(run)], f"{run / 'metrics.jsonl'} is not valid JSON")
    (run / "metrics.jsonl").write_text('{"epoch": 1}\n')
    refused(capsys, ["train", "--resume", str(run)], "has 1 epochs but the checkpoint 2")
    (run / "config.json").write_bytes(b"\xff\xfe{")
    refused(capsys, ["train", "--resume", str(run)], f"{run / 'config.json'} is not valid JSON")
    recipe = tmp_path / "recipe.json"
    recipe.write_bytes(b"\x80lr")
    refused(capsys, ["train", "--recipe", str(recipe)], f"{recipe} is not valid JSON")
    refused(capsys, ["train", "--device", "cuda:x", "--epochs", "1"], "device 'cuda:x' invalid")


def test_checkpoint_header_must_match_its_tensors(tmp_path, capsys):
    from safetensors.torch import save_file
    net = MLP([2, 3, 2], seed=0)
    good = {k: v.contiguous() for k, v in net.state_dict().items()}
    cases = {"no sizes": (good, {"epoch": 1}), "bad sizes": (good, {"sizes": [2, "3", 2], "epoch": 1}),
             "missing W1": ({k: v for k, v in good.items() if k != "W1"}, {"sizes": [2, 3, 2], "epoch": 1}),
             "wrong shape": (good, {"sizes": [2, 4, 2], "epoch": 1}), "no epoch": (good, {"sizes": [2, 3, 2]})}
    for name, (tensors, meta) in cases.items():
        path = tmp_path / f"{name}.safetensors"
        save_file(tensors, str(path), metadata={"baremlp": json.dumps(meta)})
        refused(capsys, ["predict", "--checkpoint", str(path), "--input", "1,2"],
                        f"checkpoint '{path}' is truncated, corrupt or not a baremlp checkpoint")
