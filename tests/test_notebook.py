"""The notebook runs top to bottom and ends with A = M W within 1e-4 of R.

It is executed from a temporary copy. The committed notebook (with its saved outputs) is never
rewritten: notebooks/build_notebook.py does that.
"""
import re
from pathlib import Path

from helpers import run_notebook, text_of

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "mlp_with_autograd.ipynb"


def test_notebook_runs_and_ends_with_the_rotation(tmp_path):
    nb = run_notebook(NOTEBOOK, tmp_path, timeout=240)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"cell errored: {errors[0].ename}: {errors[0].evalue}"

    last = text_of(code[-1])
    assert "A = M W" in last
    found = re.search(r"max \|A − R\| = ([0-9.eE+-]+)", last)
    assert found, f"no 'max |A − R| = ...' in the last code cell's output:\n{last}"
    assert float(found.group(1)) <= 1e-4
    assert nb.cells[-1].cell_type == "markdown"
