"""The three notebooks of lab.py's CELLS, as nbformat-4 JSON (written by hand: no Jupyter package needed).

    starter()    the student's notebook: stubs with TODOs, self-check cells, no tests
    solved()     the starter with every answer filled in (for tests, benchmarks, an instructor's key)
    otter()      otter-grader's master notebook (otter assign's format: raw-cell blocks per question)
    nbgrader()   nbgrader's source notebook (each graded cell's metadata.nbgrader)
"""
import json

from . import network_cells, training_cells
from .lab import BY_NAME, NAME, Answer, Code, Md, Written, clean

CELLS = network_cells.CELLS + training_cells.CELLS  # the starter, in order

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
          "language_info": {"name": "python"}}


def cell(kind, text, cell_id, metadata=None):
    c = {"cell_type": kind, "id": cell_id, "metadata": metadata or {}, "source": clean(text)}
    if kind == "code":
        c.update(execution_count=None, outputs=[])
    return c


def notebook(cells, metadata=None):
    """Fixed ids (cell-00, cell-01, ...), so that a rewrite changes only what changed."""
    for i, c in enumerate(cells):
        c["id"] = f"cell-{i:02d}"
    return {"cells": cells, "metadata": {**KERNEL, **(metadata or {})}, "nbformat": 4, "nbformat_minor": 5}


def dumps(nb):
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def starter(answers=None):
    """answers: {question: code} to put in place of the stubs (solved() passes the solutions)."""
    answers = answers or {}
    cells = []
    for item in CELLS:
        if isinstance(item, Md):
            cells.append(cell("markdown", item.text, ""))
        elif isinstance(item, Code):
            cells.append(cell("code", item.text, ""))
        elif isinstance(item, Answer):
            cells.append(cell("code", answers.get(item.question, item.stub), ""))
        elif isinstance(item, Written):
            cells.append(cell("markdown", answers.get(item.question, item.prompt), ""))
    return notebook(cells, {"otter": {"assignment_name": NAME}})  # so that `otter run` grades the starter too


def solved(**replace):
    """The starter with the solutions; replace={question: code} puts another answer in (a wrong one, say)."""
    answers = {i.question: clean(i.solution) if isinstance(i, Answer) else clean(i.answer)
               for i in CELLS if isinstance(i, (Answer, Written))}
    return starter({**answers, **{k: clean(v) for k, v in replace.items()}})


# -- otter-grader ------------------------------------------------------------------------------------------

OTTER_CONFIG = f"""
# ASSIGNMENT CONFIG
name: {NAME}
requirements: requirements.txt
init_cell: true
check_all_cell: false
export_cell: false
run_tests: true
generate: true
"""


def otter_solution(item):
    """The solution for the master; the stub as otter's prompt, which `otter assign` leaves for the student."""
    lines = ["# BEGIN SOLUTION NO PROMPT", *clean(item.solution).splitlines(), "# END SOLUTION",
             '""" # BEGIN PROMPT', *clean(item.stub).splitlines(), '""" # END PROMPT']
    return "\n".join(lines)


def otter_tests(question):
    return [cell("code", test, "") for test in question.tests]


def otter():
    cells = [cell("raw", OTTER_CONFIG, "")]
    for item in CELLS:
        if isinstance(item, Md):
            cells.append(cell("markdown", item.text, ""))
        elif isinstance(item, Code):
            cells.append(cell("code", item.text, ""))
        else:
            q = BY_NAME[item.question]
            head = f"# BEGIN QUESTION\nname: {q.name}\npoints: {q.points}" + ("\nmanual: true" if q.manual else "")
            cells += [cell("raw", head, ""), cell("markdown", f"**{q.title}** ({q.points} points)", "")]
            if isinstance(item, Answer):
                cells += [cell("raw", "# BEGIN SOLUTION", ""), cell("code", otter_solution(item), ""),
                          cell("raw", "# END SOLUTION", "")]
            elif isinstance(item, Written):
                cells += [cell("raw", "# BEGIN SOLUTION", ""), cell("markdown", item.answer, ""),
                          cell("raw", "# END SOLUTION", "")]
            if q.tests:
                cells += [cell("raw", "# BEGIN TESTS", ""), *otter_tests(q), cell("raw", "# END TESTS", "")]
            cells.append(cell("raw", "# END QUESTION", ""))
    return notebook(cells)


OTTER_REQUIREMENTS = """\
# The Gradescope autograder's packages (otter assign adds otter-grader's own).
# torch's CPU build: the default index would pull a multi-gigabyte CUDA build.
--extra-index-url https://download.pytorch.org/whl/cpu
torch==2.13.0
baremlp=={version}
"""


# -- nbgrader ------------------------------------------------------------------------------------------

def nb_meta(grade_id, grade=False, solution=False, locked=False, points=None):
    meta = {"schema_version": 3, "grade": grade, "solution": solution, "locked": locked, "task": False,
            "grade_id": grade_id}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def nbgrader_answer(item):
    """The answer cell: a function's def line and TODO comments kept, its body between nbgrader's markers
    (released as `# YOUR CODE HERE` + `raise NotImplementedError()`, which written() reads as a stub)."""
    solution, stub = clean(item.solution).splitlines(), clean(item.stub).splitlines()
    head = []
    if solution[0].startswith("def "):
        head, solution = [solution[0]], solution[1:]
    indent = "    " if head else ""
    comments = [line for line in stub if line.strip().startswith("#") or line.strip().endswith("= params")]
    body = [line for line in solution if not line.strip().endswith("= params")]
    return "\n".join(head + comments + [indent + "### BEGIN SOLUTION"] + body + [indent + "### END SOLUTION"])


def nbgrader():
    cells = []
    for item in CELLS:
        if isinstance(item, Md):
            cells.append(cell("markdown", item.text, ""))
        elif isinstance(item, Code):
            locked = "def written" in item.text  # the set-up cell: the self-checks rely on it
            cells.append(cell("code", item.text, "", nb_meta("setup", locked=True) if locked else None))
        else:
            q = BY_NAME[item.question]
            if isinstance(item, Answer):
                cells.append(cell("code", nbgrader_answer(item), "", nb_meta(f"{q.name}-answer", solution=True)))
            elif isinstance(item, Written):
                cells.append(cell("markdown", item.answer, "",
                                  nb_meta(f"{q.name}-answer", grade=True, solution=True, points=q.points)))
            for i, test in enumerate(q.tests):
                cells.append(cell("code", f"# {q.title}: {q.points} points\n" + clean(test), "",
                                  nb_meta(f"{q.name}-test{i}", grade=True, locked=True,
                                          points=q.points / len(q.tests) if len(q.tests) > 1 else q.points)))
    return notebook(cells)


def fill(nb, **replace):
    """A copy of a released nbgrader notebook (nb: its JSON as a dict) with every answer cell filled in:
    the solutions, or replace={question: code or text} (a wrong answer, for a test or a benchmark)."""
    answers = {i.question: clean(i.solution) if isinstance(i, Answer) else clean(i.answer)
               for i in CELLS if isinstance(i, (Answer, Written))}
    answers.update({k: clean(v) for k, v in replace.items()})
    nb = json.loads(json.dumps(nb))
    for c in nb["cells"]:
        grade_id = c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("-answer"):
            c["source"] = answers[grade_id[: -len("-answer")]]
    return nb
