"""What the notebook builders share: cells from (kind, text) pairs with fixed ids, executed top to
bottom and written where the caller says (build_notebook.py, build_check_notebook.py)."""
import time
from textwrap import dedent

import nbformat
from nbclient import NotebookClient


def build(cells):
    """A notebook of ("md" | "code", text) cells, each text dedented."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, text) in enumerate(cells):
        source = dedent(text).strip("\n")
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell.id = f"cell-{i:02d}"  # fixed ids, so a rebuild changes only what changed
        nb.cells.append(cell)
    return nb


def write_executed(cells, path, timeout):
    """Builds the notebook, runs every cell in a fresh kernel (in path's folder) and writes it to path."""
    nb = build(cells)
    t0 = time.perf_counter()
    # record_timing=False keeps timestamps out of the saved notebook, so rebuilds diff cleanly
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print(f"wrote {path.relative_to(path.parent.parent)} (executed in {time.perf_counter() - t0:.1f} s)")
