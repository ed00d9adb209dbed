"""The notebook runs top to bottom and ends with A = M W within 1e-4 of R.

It is executed from a temporary copy. The committed notebook (with its saved outputs) is never
rewritten: notebooks/build_notebook.py does that.
"""
import re
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from jupyter_client.kernelspec import find_kernel_specs  # noqa: E402  (installed with nbclient)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK = NOTEBOOKS / "mlp_with_autograd.ipynb"


def text_of(cell):
    """All stream and text/plain output of a code cell, joined."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out and "text/plain" in out.data:
            parts.append(out.data["text/plain"])
    return "".join(parts)


def test_notebook_runs_and_ends_with_the_rotation(tmp_path):
    # With ipykernel importable, jupyter_client resolves "python3" to this interpreter
    # (its "python" argv is replaced by sys.executable), so the kernel sees the same venv.
    if "python3" not in find_kernel_specs():
        pytest.skip("no python3 kernel spec found")
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    nb = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=240,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError on the first cell that fails
    nbformat.write(nb, tmp_path / "executed.ipynb")

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
