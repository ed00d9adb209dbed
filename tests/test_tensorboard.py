"""--tensorboard: TensorBoard event logs beside the run's own files (tensorboard is optional)."""
import importlib.util
import sys

import pytest

from baremlp.cli import main

HAS_TB = importlib.util.find_spec("tensorboard") is not None


@pytest.mark.skipif(not HAS_TB, reason="tensorboard is not installed (pip install tensorboard)")
def test_event_log_holds_the_epoch_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    assert main(["train", "--n", "100", "--epochs", "3", "--quiet", "--tensorboard", "--out", str(tmp_path)]) == 0
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"objective", "lr", "effective_map/A12"} <= set(tags)
    assert [e.step for e in events.Scalars("objective")] == [1, 2, 3]


def test_missing_package_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    assert main(["train", "--epochs", "1", "--tensorboard", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: tensorboard needs the tensorboard package: pip install tensorboard\n"


def test_needs_a_run_folder(capsys):
    assert main(["train", "--epochs", "1", "--tensorboard"]) == 2
    assert "tensorboard writes into the run folder" in capsys.readouterr().err
