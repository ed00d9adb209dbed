"""The lab as an assignment: a starter notebook for students, and the lab graded in otter-grader and nbgrader.

    from baremlp import handout
    handout.write("lab3-assignment")          # what `baremlp assignment DIR` writes:
        DIR/student/lab3.ipynb                    the starter: the lab step by step, TODOs and self-checks
        DIR/otter/lab3.ipynb                      otter-grader's master notebook (+ requirements.txt)
        DIR/nbgrader/source/lab3/lab3.ipynb       nbgrader's source notebook (+ nbgrader_config.py)
        DIR/README.md                             for the instructor: release, collect, grade

The cells live once, in lab.py; notebooks.py renders them for each engine.  The notebooks need baremlp
(and torch); the engines need `pip install 'baremlp[grading]'`.
"""
from pathlib import Path

from .. import __version__
from ..errors import UsageError
from . import notebooks
from .lab import NAME, QUESTIONS
from .readme import instructor_readme, nbgrader_config
from .rules import torch_nn_used

__all__ = ["write", "torch_nn_used", "NAME", "QUESTIONS"]


def write(folder, overwrite=False):
    """Writes the assignment into folder (created; refused when not empty unless overwrite); returns
    {what: path} for the files written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file: give a folder for the assignment")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise UsageError(f"{folder} is not empty: give a new folder, or --overwrite to replace what is there")
    files = {
        "starter": (folder / "student" / f"{NAME}.ipynb", notebooks.dumps(notebooks.starter())),
        "otter": (folder / "otter" / f"{NAME}.ipynb", notebooks.dumps(notebooks.otter())),
        "otter requirements": (folder / "otter" / "requirements.txt",
                               notebooks.OTTER_REQUIREMENTS.format(version=__version__)),
        "nbgrader": (folder / "nbgrader" / "source" / NAME / f"{NAME}.ipynb", notebooks.dumps(notebooks.nbgrader())),
        "nbgrader config": (folder / "nbgrader" / "nbgrader_config.py", nbgrader_config()),
        "readme": (folder / "README.md", instructor_readme()),
    }
    for path, text in files.values():  # an OSError (a read-only folder) is a failure while running: status 1
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return {what: path for what, (path, _) in files.items()}
