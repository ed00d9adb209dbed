"""notebooks/check_your_work.ipynb runs top to bottom: each planted bug's report names its code, each fix
passes, and check.all passes at the end.  Executed from a temporary copy; build_check_notebook.py writes
the committed one."""
from pathlib import Path

from helpers import run_notebook, text_of

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "check_your_work.ipynb"


def test_check_notebook_runs_bug_report_fix(tmp_path):
    nb = run_notebook(NOTEBOOK, tmp_path, timeout=120)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    texts = [text_of(c) for c in code]
    reports = [t for t in texts if t.startswith("check.")]
    assert [r.splitlines()[0] for r in reports] == [
        "check.forward: 1 mistake found (no-bias) on 7 cases", "check.forward: passed on 7 cases",
        "check.gradients: 1 mistake found (grad-relu-mask-missing) on 7 cases", "check.gradients: passed on 7 cases",
        "check.step: 1 mistake found (step-grads-not-zeroed) on 2 cases", "check.step: passed on 2 cases"]
    assert "right: u = W @ x + b" in reports[0]
    assert any("<table>" in o.data.get("text/html", "") for c in code for o in c.outputs if "data" in o)
    assert "all passed" in texts[-1]
