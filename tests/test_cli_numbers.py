"""The CLI's last rough edges with numbers (issue 28, items 15 and 16): an integer too large for a
setting, and a checkpoint whose weights are not finite, are the user's input, said in one line, exit 2."""
import json

import pytest
from safetensors.torch import save as st_save

from baremlp.cli import main
from baremlp.runs import checkpoint
from baremlp.runs.runner import run
from baremlp.runs.settings import Settings


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("flag", ["--epochs", "--batch-size", "--n", "--seed", "--reg-epochs", "--hidden"])
def test_an_integer_too_large_is_said_in_one_line(capsys, flag):
    code, _, err = run_cli(capsys, "train", flag, "9" * 400, "--quiet")
    assert code == 2, err
    assert err.count("\n") == 1 and "a bug" not in err and "Traceback" not in err
    name = flag[2:].replace("-", "_")
    assert err.startswith(f"error: {name} 999") and "(400 digits)" in err and "expected" in err


def test_settings_from_python_say_it_too():
    from baremlp.runs.settings import Settings
    with pytest.raises(ValueError, match=r"epochs 999.*\(400 digits\) invalid: too large, expected at most 2\^63"):
        Settings(epochs=int("9" * 400))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run folder's checkpoint (one short run for the module: no plots)."""
    out = tmp_path_factory.mktemp("run") / "run"
    run(Settings(n=50, epochs=1), out=str(out), progress=False, log=lambda *a: None, plots=False)
    return out / "checkpoint.safetensors"


@pytest.fixture
def broken_checkpoint(trained, tmp_path):
    path = tmp_path / "checkpoint.safetensors"
    tensors, meta = checkpoint.load(trained)
    return path, tensors, meta


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("command", [["evaluate"], ["predict", "--input", "0.5,-1.2"]])
def test_a_checkpoint_with_non_finite_weights_is_refused(capsys, broken_checkpoint, bad, command):
    path, tensors, meta = broken_checkpoint
    tensors["W0"] = tensors["W0"].clone()
    tensors["W0"].view(-1)[0] = bad
    header = {"baremlp": json.dumps(meta)}
    path.write_bytes(st_save({k: v.contiguous() for k, v in tensors.items()}, metadata=header))
    code, out, err = run_cli(capsys, command[0], "--checkpoint", str(path), *command[1:])
    assert code == 2 and out == "", out
    assert err.count("\n") == 1 and "NaN or infinite" in err and str(path) in err
