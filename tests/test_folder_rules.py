"""The rules a run folder keeps, checked in one place (RunFolder.opening) and once per run, before the
data loads: what a new run and a resumed one may do with the folder."""
import json

import pytest
from conftest import QUIET

from baremlp.errors import UsageError
from baremlp.runs import runner
from baremlp.runs.folder import RunFolder
from baremlp.runs.settings import Settings

QUICK = Settings(n=60, epochs=2, reg_epochs=1)


@pytest.fixture
def finished(tmp_path):
    out = tmp_path / "run"
    runner.run(QUICK, str(out), **QUIET)
    return out


def test_each_way_a_folder_can_open(tmp_path, finished):
    folder = RunFolder(str(finished))
    assert RunFolder(str(tmp_path / "new")).opening(QUICK) == "new"
    assert folder.opening(QUICK, overwrite=True) == "new"
    assert folder.opening(QUICK, resume=True) == "finished"
    assert folder.opening(QUICK.replace(epochs=3), resume=True) == "extend"
    (finished / "summary.json").unlink()
    assert folder.opening(QUICK, resume=True) == "resume"
    (finished / "checkpoint.safetensors").unlink()
    assert folder.opening(QUICK, resume=True) == "restart"


@pytest.mark.parametrize("change, words", [
    (dict(lr=0.5), "continues it with its own settings: only epochs may change"),
    (dict(epochs=1), "has trained 2 epochs already: epochs 1 cannot shorten it"),
])
def test_a_resume_that_would_change_the_run_is_refused_before_the_data_loads(finished, monkeypatch, change, words):
    monkeypatch.setattr(runner, "prepare", lambda *a, **k: pytest.fail("the data loaded before the refusal"))
    with pytest.raises(UsageError, match=words):
        runner.run(QUICK.replace(**change), str(finished), resume=True, **QUIET)


def test_a_diverged_run_is_not_resumed(finished):
    (finished / "summary.json").write_text(json.dumps({"diverged": True, "final_loss": None}))
    with pytest.raises(UsageError, match="holds a run that diverged: nothing to resume"):
        RunFolder(str(finished)).opening(QUICK, resume=True)


def test_the_used_folder_check_runs_once_for_a_run(tmp_path, monkeypatch):
    calls = []
    check_new = RunFolder.check_new
    monkeypatch.setattr(RunFolder, "check_new", lambda self, *a: calls.append(self.path) or check_new(self, *a))
    runner.run(QUICK, str(tmp_path / "run"), **QUIET)
    assert calls == [str(tmp_path / "run")]


def test_resume_needs_a_folder():
    with pytest.raises(UsageError, match="resume=True continues a run folder: give its folder too"):
        runner.run(QUICK, None, resume=True, **QUIET)


def test_a_resumed_finished_run_returns_its_network_and_summary(finished):
    net, summary = runner.run(QUICK, str(finished), resume=True, **QUIET)
    assert net is not None and summary == json.loads((finished / "summary.json").read_text())


def test_resume_into_a_new_folder_starts_the_run(tmp_path):
    """As 0.2 did: resume=True where nothing is yet is "resume or start"."""
    assert RunFolder(str(tmp_path / "new")).opening(QUICK, resume=True) == "restart"
    net, summary = runner.run(QUICK, str(tmp_path / "new"), resume=True, **QUIET)
    assert summary["epochs_run"] == 2 and (tmp_path / "new" / "summary.json").exists()


@pytest.mark.parametrize("length", [2 ** 63 + 5, 2 ** 45, 0])
def test_a_damaged_checkpoint_header_is_refused_in_one_line(finished, length):
    (finished / "summary.json").unlink()
    (finished / "checkpoint.safetensors").write_bytes(length.to_bytes(8, "little") + b"{}")
    with pytest.raises(UsageError, match="is truncated, corrupt or not a baremlp checkpoint"):
        RunFolder(str(finished)).opening(QUICK, resume=True)
