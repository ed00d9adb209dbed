"""`baremlp check FILE.py [--json]` on gallery files: the report, and the exit status a grader reads
(0 all passed, 1 some failed, 2 a usage error)."""
import json

from conftest import GALLERY, run_cli


def test_a_right_file_exits_0(capsys):
    code, out, _ = run_cli(capsys, "check", str(GALLERY / "lab_all_correct.py"))
    assert code == 0
    assert "  step: passed  [2/2]" in out and "score 11/11: passed" in out


def test_a_wrong_file_exits_1_and_names_its_mistakes(capsys):
    code, out, _ = run_cli(capsys, "check", str(GALLERY / "lab_three_mistakes.py"))
    assert code == 1
    for name in ("no-relu", "mse-sum-not-mean", "step-grads-not-zeroed"):
        assert name in out


def test_json_for_a_grader(capsys):
    code, out, _ = run_cli(capsys, "check", str(GALLERY / "grad_mask_and_factor.py"), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["passed"] is False
    assert sorted(report["mistakes"]) == ["grad-factor-2", "grad-relu-mask-missing"]
    assert report["checks"]["gradients"]["cases"][0]["expected"]["c"] == [11.0, -2.0]


def test_usage_errors_exit_2_in_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "check", str(tmp_path / "missing.py"))
    assert code == 2 and err.startswith("error: ") and "no such file" in err and len(err.splitlines()) == 1
    empty = tmp_path / "nothing.py"
    empty.write_text("x = 1\n")
    code, _, err = run_cli(capsys, "check", str(empty))
    assert code == 2 and "defines none of" in err
