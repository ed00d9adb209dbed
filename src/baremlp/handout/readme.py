"""DIR/README.md, for the instructor, and nbgrader's course configuration."""
from .. import __version__
from .lab import NAME, QUESTIONS


def points_table():
    rows = ["| question | points | graded by |", "|---|---|---|"]
    for q in QUESTIONS:
        rows.append(f"| `{q.name}`: {q.title} | {q.points} | {'you, by hand' if q.manual else 'tests (baremlp.check)'} |")
    auto = sum(q.points for q in QUESTIONS if not q.manual)
    manual = sum(q.points for q in QUESTIONS if q.manual)
    rows.append(f"| total | {auto + manual} | {auto} by tests, {manual} by hand |")
    return "\n".join(rows)


def instructor_readme():
    return f"""# Lab 3 as an assignment (written by `baremlp assignment`)

| file | what |
|---|---|
| `student/{NAME}.ipynb` | the starter: the lab step by step, a TODO per function, a self-check after each |
| `otter/{NAME}.ipynb` | otter-grader's master notebook: the solutions, the tests, the points |
| `otter/requirements.txt` | what the Gradescope autograder installs: torch (CPU build) and baremlp |
| `nbgrader/source/{NAME}/{NAME}.ipynb` | nbgrader's source notebook |
| `nbgrader/nbgrader_config.py` | a course folder's configuration for nbgrader |

Every notebook needs `baremlp` (and torch) where it runs. The starter runs top to bottom as handed
out without an error: each self-check prints "not written yet" while its TODO stands. The tests of
both engines call `baremlp.check`, so a failing test's output is the checker's report: the mistake's
code (`no-bias`, `grad-factor-2`, `step-grads-not-zeroed`, ...) and the line to change.

{points_table()}

The training question checks the notebook's own trained weights: after the loop (which calls the
student's `step`, and through it their `forward`, `loss` and `regularization`), max |M W − R| < 0.05.
**Orientation**: baremlp's column convention (u = W x + b, W (3, 2)) gives the map A = M W, y ≈ A x;
the lab's W·M, written in the row convention (u = x W + b, W stored (2, 3)), is Aᵀ, with target Rᵀ.
The rules question fails a notebook that uses `torch.nn` or `torch.optim`.

## Route 1: `baremlp check` alone

Students submit the notebook exported as Python (`jupyter nbconvert --to script {NAME}.ipynb`); run
`baremlp check {NAME}.py` on each (`--json` for a machine-readable report; exit status 0 when every
function passed). Or, in the notebook itself, the last cell's `check.all(...)`. No points, no written
answers: a report per student.

## Route 2: otter-grader (and Gradescope)

Needs `pip install 'baremlp[grading]'` (otter-grader 7.0.0).

```bash
cd otter
otter assign {NAME}.ipynb dist      # dist/student: the notebook to hand out; dist/autograder: the
                                    # Gradescope zip, and the master run against its own tests
otter run -a dist/autograder/*.zip submission.ipynb   # grade one submission locally, no Docker
```

`otter run` prints each question's score and writes `results.json` (`-o FOLDER`, an existing one,
puts it elsewhere); a failing test's output there is the checker's report: the mistake's code and
the line to change. Upload the zip in
`dist/autograder` to a Gradescope programming assignment: its `requirements.txt` installs torch's CPU
build and `baremlp=={__version__}` from this file; where Gradescope cannot reach that version on PyPI,
replace the line with the repository's address (`baremlp @ git+https://…`) before `otter assign`.
The derivation and the discussion are manual questions: grade them on Gradescope (otter puts them in
the notebook, in cells of their own).

## Route 3: nbgrader

Needs `pip install 'baremlp[grading]'` (nbgrader 0.9.6), and **the environment's `bin` folder on
`PATH`**: nbgrader runs its database migrations by calling `alembic` by name, so with a virtual
environment that is not activated, `generate_assignment` fails with "alembic: not found".

```bash
export PATH=/path/to/venv/bin:$PATH   # or: source /path/to/venv/bin/activate
cd nbgrader                            # the course folder: nbgrader_config.py, source/{NAME}/
nbgrader generate_assignment {NAME}    # release/{NAME}/{NAME}.ipynb: hand this one out
# collect: submitted/<student>/{NAME}/{NAME}.ipynb for each student
nbgrader autograde {NAME} --create     # runs the tests; --create adds students it does not know
nbgrader formgrade                     # (in Jupyter: the Formgrader tab) grade the written answers
nbgrader export                        # grades.csv
```

nbgrader's released notebook follows nbgrader's convention: each answer's body is
`# YOUR CODE HERE` / `raise NotImplementedError()` (the hand-worked cell too, which raises until it
is filled in). The self-check cells read that as "not written yet". The test cells are locked, with
the points shown; the derivation and the discussion are manually graded answer cells.
"""


def nbgrader_config():
    return f"""# nbgrader's configuration for this course folder (`baremlp assignment` wrote it).
# Run nbgrader from this folder, with the environment's bin folder on PATH (nbgrader calls alembic by name).
c = get_config()  # noqa: F821  (nbgrader provides it)
c.CourseDirectory.course_id = "baremlp-lab"
c.Execute.timeout = 300          # seconds a cell may run (the training cell takes a few)
"""
