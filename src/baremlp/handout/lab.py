"""The lab as an assignment, once: the kinds of cell, the questions with their points and tests.

The starter's cells are network_cells.CELLS + training_cells.CELLS, in order; each item is one of

    Md(text)                          a markdown cell, in every notebook
    Code(text)                        given code, in every notebook
    Answer(question, stub, solution)  a cell the student writes: the stub (a TODO) for the starter, the
                                      solution for the graders' notebooks (otter's master, nbgrader's source)
    Written(question, prompt)         a written answer, graded by hand (the derivation, the discussion)
    Graded(question)                  where a question with tests only is graded (nothing in the starter)

and QUESTIONS gives each question its points and its tests (code that raises AssertionError, with the
checker's report as the message, when the answer is wrong; silent when it is right).  notebooks.py
renders the three notebooks from these lists, so that they cannot drift apart.

Stubs raise NotImplementedError("TODO ..."); the starter's `written(fn)` tells a stub from an answer by
that name in the function's code, so self-check cells print "not written yet" instead of failing.
"""
from dataclasses import dataclass, field
from textwrap import dedent


def clean(text):
    return dedent(text).strip("\n")


@dataclass
class Md:
    text: str


@dataclass
class Code:
    text: str


@dataclass
class Answer:
    question: str
    stub: str
    solution: str


@dataclass
class Written:
    question: str
    prompt: str
    answer: str = ""  # a model answer for the instructor (otter's solution, nbgrader's source)


@dataclass
class Graded:
    question: str  # a question with tests only (the training outcome, the rules): where the graders check it


@dataclass
class Question:
    name: str
    points: int
    title: str
    tests: list = field(default_factory=list)
    manual: bool = False


NAME = "lab3"  # the notebook's name in every folder, and the assignment's in nbgrader

# -- tests: each silent when right, an AssertionError carrying the checker's report when wrong ---------------

T_BY_HAND = """
report = check.by_hand(x_hand, W_hand, b_hand, M_hand, c_hand, u=u_hand, h=h_hand, v=v_hand)
assert report.passed, "\\n" + str(report)
"""
T_FORWARD = """
report = check.forward(forward)
assert report.passed, "\\n" + str(report)
"""
T_LOSS = """
report = check.loss(loss)
assert report.passed, "\\n" + str(report)
"""
T_CROSS_ENTROPY = """
report = check.loss(cross_entropy, kind="cross_entropy")
assert report.passed, "\\n" + str(report)
"""
T_REGULARIZATION = """
report = check.regularization(regularization)
assert report.passed, "\\n" + str(report)
"""
T_GRADIENTS = """
carried = check.all({"loss": loss, "regularization": regularization}).conventions  # a halved MSE changes J
report = check.gradients(gradients, conventions=carried)
assert report.passed, "\\n" + str(report)
"""
T_STEP = """
report = check.step(step)
assert report.passed, "\\n" + str(report)
"""
T_TRAINING = """
assert params is not None, "the training loop has not run: write forward, loss, regularization and step first"
A = (params[2] @ params[0]).detach()  # A = M W, column convention (the lab's W·M in row convention is Aᵀ)
error = (A - R).abs().max().item()
assert error < 0.05, f"after training, max |M W − R| = {error:.3g} (should be < 0.05):\\n{A}\\nagainst R =\\n{R}"
"""
T_RULES = """
used = torch_nn_used(globals())
assert not used, "the lab is written without torch.nn and torch.optim: " + "; ".join(used)
"""

QUESTIONS = [
    Question("by_hand", 2, "The forward pass by hand", [T_BY_HAND]),
    Question("forward", 2, "forward", [T_FORWARD]),
    Question("loss", 1, "loss (MSE)", [T_LOSS]),
    Question("regularization", 1, "regularization", [T_REGULARIZATION]),
    Question("cross_entropy", 1, "cross_entropy", [T_CROSS_ENTROPY]),
    Question("derivation", 3, "The derivation", manual=True),
    Question("gradients", 3, "gradients", [T_GRADIENTS]),
    Question("step", 2, "step", [T_STEP]),
    Question("training", 2, "Training: W·M ≈ R", [T_TRAINING]),
    Question("rules", 1, "No torch.nn, no torch.optim", [T_RULES]),
    Question("discussion", 2, "Discussion", manual=True),
]
BY_NAME = {q.name: q for q in QUESTIONS}
AUTOGRADED = [q.name for q in QUESTIONS if not q.manual]
