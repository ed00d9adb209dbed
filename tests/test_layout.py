"""The package's layout holds: the teaching code at the top imports no application subpackage, no
cycle between files or between folders, the chain of imports short, every module readable in one
sitting.  Imports are read from the source (ast), those inside functions included, so a lazy
import counts like any other.

    python tests/test_layout.py     prints the layers: each folder or top-level module, what it imports
"""
import ast
import functools
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "src" / "baremlp"
PACKAGE = "baremlp"
LIBRARY = {"engines", "data"}  # subpackages of the library, below train and the runs
# Deprecated aliases of moved modules (each re-exports its new home; removed in 0.3), and the entry
# point `python -m baremlp`: they stand outside the layers by design.
ALIASES = {"baremlp.runner", "baremlp.settings", "baremlp.population", "baremlp.tables", "baremlp.inference"}
ENTRY = {"baremlp.__main__", "baremlp.cli.__main__"}
MAX_LINES, MAX_CHAIN = 260, 10


def module_names():
    """{dotted module name: path} for every .py file of the package."""
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join((PACKAGE,) + parts)] = path
    return names


MODULES = module_names()


def imports_of(name, path):
    """The package's modules that `name` imports (a `from X import Y` counts X.Y when Y is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            for a in node.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != name and m != PACKAGE}


@functools.cache
def graph():
    """Module -> the modules it imports, leaving out the aliases and the entry point."""
    return {m: {t for t in imports_of(m, p) if t not in ALIASES}
            for m, p in MODULES.items() if m not in ALIASES | ENTRY and m != PACKAGE}


def place(module):
    """A module's place in the layers: its subpackage (a folder is one place), or itself at the top."""
    return module.split(".")[1]


def is_folder(place_name):
    return (ROOT / place_name).is_dir()


@functools.cache
def places():
    """Place -> the places its modules import."""
    out = {}
    for m, targets in graph().items():
        out.setdefault(place(m), set()).update(place(t) for t in targets if place(t) != place(m))
    return out


def cycle(edges):
    """One cycle of the graph as a list of nodes, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for t in sorted(edges.get(n, ())):
            if state.get(t) == "open":
                return stack[stack.index(t):] + [t]
            if t not in state and (found := visit(t)):
                return found
        stack.pop()
        state[n] = "done"
        return None

    for n in sorted(edges):
        if n not in state and (found := visit(n)):
            return found
    return None


def longest_chain(edges):
    """The longest path of imports, as a list of places (edges must be acyclic)."""
    @functools.cache
    def longest(n):
        return max(([n] + longest(t) for t in edges.get(n, ())), key=len, default=[n])
    return max((longest(n) for n in edges), key=len)


def test_no_cycle_between_files():
    assert cycle(graph()) is None, f"import cycle: {' -> '.join(cycle(graph()))}"


def test_no_cycle_between_folders():
    assert cycle(places()) is None, f"cycle between places: {' -> '.join(cycle(places()))}"


def test_the_teaching_code_imports_no_application():
    """Top-level modules (ops, model, sgd, backprop, train, ...) use nothing but each other and the
    library's engines: a learner reads them without the runs, studies, CLI or estimators."""
    wrong = [(p, t) for p, targets in places().items() if not is_folder(p)
             for t in targets if is_folder(t) and t not in LIBRARY]
    assert not wrong, f"top-level modules importing an application subpackage: {wrong}"


def test_the_library_imports_no_application():
    wrong = [(p, t) for p in LIBRARY for t in places().get(p, ()) if is_folder(t) and t not in LIBRARY]
    assert not wrong, f"engines/ or data/ importing an application subpackage: {wrong}"


def test_the_chain_of_imports_is_short():
    chain = longest_chain(places())
    assert len(chain) - 1 <= MAX_CHAIN, f"{len(chain) - 1} steps: {' -> '.join(chain)}"


def test_every_module_reads_in_one_sitting():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


MAX_POSITIONAL = 6  # values handed on one by one past this are an object's fields (runner.Run, sgd.Step)


def test_no_run_or_page_function_takes_a_long_row_of_values():
    """In runs/ and view/, what travels together is one object: at most MAX_POSITIONAL positional
    parameters (self aside); a plotting helper may take matplotlib's many."""
    long = []
    for name, path in MODULES.items():
        if name.split(".")[1:2] not in (["runs"], ["view"]) or name == "baremlp.runs.plots":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
                if len(params) > MAX_POSITIONAL:
                    long.append(f"{name}.{node.name}({', '.join(params)})")
    assert not long, f"more than {MAX_POSITIONAL} positional parameters: {long}"


def test_the_aliases_of_moved_modules_warn_and_work():
    import subprocess
    import sys
    code = ("import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
            "import baremlp.runs.runner as r, baremlp.runs.settings as s, baremlp.studies.population as p\n"
            "import baremlp.data.tables as t, baremlp.runs.inference as i\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    from baremlp.runner import run; from baremlp.settings import Settings\n"
            "    from baremlp import population; from baremlp.tables import from_csv\n"
            "    from baremlp.inference import predict\n"
            "assert run is r.run and Settings is s.Settings and population is p and from_csv is t.from_csv and predict is i.predict\n"
            "print(sorted(str(x.message).split(' moved')[0] for x in w if x.category is DeprecationWarning))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted(["baremlp.inference", "baremlp.population", "baremlp.runner", "baremlp.settings",
                                      "baremlp.tables"]))


def test_a_function_that_moved_says_where():
    from baremlp.datasets import from_csv, from_npz
    with pytest.raises(ImportError, match="baremlp.datasets.from_csv moved to baremlp.data.from_csv"):
        from_csv("x.csv", target="y")
    with pytest.raises(ImportError, match="baremlp.datasets.from_npz moved to baremlp.data.from_npz"):
        from_npz("x.npz")


def test_the_0_1_names_of_train_still_import():
    from baremlp.sgd import epoch_order as moved
    from baremlp.train import epoch_order
    assert epoch_order is moved


def test_python_m_baremlp_cli_is_the_command():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "baremlp.cli", "train", "--lr", "0"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr == "error: lr 0.0 invalid: expected a finite number > 0\n"


if __name__ == "__main__":
    for p in sorted(places(), key=lambda p: (is_folder(p), p)):
        print(f"{p + ('/' if is_folder(p) else ''):<14} -> {', '.join(sorted(places()[p])) or '-'}")
    chain = longest_chain(places())
    print(f"longest chain, {len(chain) - 1} steps: {' -> '.join(chain)}")
