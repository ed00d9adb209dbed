"""runs.runner.run from Python speaks Python: its errors and notes name the parameter (resume=True,
out, standardize=True), with the CLI flag after it in parentheses for those who came by the command."""
import re

import numpy as np
import pytest
import torch

from baremlp import Diverged, UsageError
from baremlp.engines import distributed
from baremlp.runs import runner
from baremlp.runs.folder import RunFolder
from baremlp.runs.settings import Settings
from conftest import QUIET

CLI_FLAG_OUTSIDE_PARENTHESES = re.compile(r"--[a-z-]+(?![^(]*\))")  # a --flag not inside (...)


def speaks_python(message, *parameters):
    """Every parameter named, and every --flag only in parentheses after one."""
    assert all(p in message for p in parameters), message
    assert not CLI_FLAG_OUTSIDE_PARENTHESES.search(message), message


def test_a_diverged_run_resumed_from_python(tmp_path):
    out = str(tmp_path / "run")
    with pytest.raises(Diverged):
        runner.run(Settings(lr=1e6, n=50, epochs=2), out, **QUIET)
    with pytest.raises(UsageError) as caught:
        runner.run(Settings(lr=1e6, n=50, epochs=2), out, resume=True, **QUIET)
    assert str(caught.value).startswith(f"{out} holds a run that diverged: nothing to resume; start it anew")
    speaks_python(str(caught.value), "resume=False")


def test_a_folder_that_holds_a_run(tmp_path):
    out = str(tmp_path / "run")
    runner.run(Settings(n=50, epochs=1), out, **QUIET)
    with pytest.raises(UsageError) as caught:
        runner.run(Settings(n=50, epochs=1), out, **QUIET)
    speaks_python(str(caught.value), "resume=True", "overwrite=True", "another out")


def test_the_note_on_unscaled_data(tmp_path):
    x = np.random.default_rng(0).normal(size=(60, 2)) * 1000  # far from unit scale
    np.savez(tmp_path / "big.npz", x=x, y=x[:, :1] - x[:, 1:])
    said = []
    runner.run(Settings(data=str(tmp_path / "big.npz"), epochs=1, lr=1e-9), None, log=said.append, progress=False)
    [note] = [line for line in said if line.startswith("note: unscaled")]
    speaks_python(note, "standardize=True")


def test_device_advice_under_several_processes(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(UsageError) as caught:
        distributed.check(64, "cuda:0", 2, 2)
    speaks_python(str(caught.value), "device 'cuda'")
    with pytest.raises(UsageError) as caught:
        distributed.check(64, "cuda", 2, 2)
    speaks_python(str(caught.value), "device 'cpu'")
