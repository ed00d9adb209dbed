"""What a submission's source says, read by AST and never run: the lab's rules, and where its functions are
defined and later rebound.

    sources(path)        [(where, source)]: ("", the file) for .py; ("cell 3", its code) per notebook code cell
    broken(sources, off) {rule: [(where, line, text)]}: uses of what the lab forbids (RULES), rules in off aside
    rebinding(sources)   {name: (where, line, text)}: a top-level assignment to a lab function's name after its
                         last def (`loss = 0.37` in a training cell drops the loss function)
    statement_lines(source) [line of each top-level statement]: child.py runs a .py file by these

A notebook's magics (%matplotlib, !pip) are not Python: their lines are read as `pass`.
"""
import ast
import json

RULES = {
    "no-torch-nn": ("torch.nn", "torch.nn or torch.nn.functional is used; the lab builds the network from tensor ops"),
    "no-torch-optim": ("torch.optim", "torch.optim is used; the lab writes the SGD step by hand"),
}
NAMES = ("forward", "loss", "cross_entropy", "regularization", "gradients", "step")


def sources(path):
    if str(path).endswith(".ipynb"):
        try:
            cells = json.loads(open(path, encoding="utf-8").read()).get("cells", [])
        except (ValueError, AttributeError, OSError):
            return []
        out = []
        for i, cell in enumerate(cells):
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                text = cell.get("source", "")
                out.append((f"cell {i + 1}", "".join(text) if isinstance(text, list) else str(text)))
        return out
    return [("", open(path, encoding="utf-8", errors="replace").read())]


def parse(source):
    """The module's AST, magics read as `pass` (a %%cell magic's cell as nothing); None if not Python."""
    if source.lstrip().startswith("%%"):
        return None
    lines = [line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip()[:1] in ("%", "!") else line
             for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return None


def dotted(node):
    """'torch.nn.functional.relu' for an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id] + parts[::-1]) if isinstance(node, ast.Name) else None


def uses(tree):
    """[(line, module)]: every import of a module and every attribute chain, with what it names."""
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                found.append((node.lineno, a.name))
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                found.append((node.lineno, f"{node.module}.{a.name}"))
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = dotted(node)
            if name:
                head, _, rest = name.partition(".")
                found.append((node.lineno, f"{aliases.get(head, head)}.{rest}"))
    return found


def broken(sources, off=()):
    """{rule: [(where, line, the student's line)]} for each rule of RULES (not in off) that the code breaks."""
    out = {}
    for where, source in sources:
        tree = parse(source)
        if tree is None:
            continue
        lines = source.splitlines()
        for line, module in sorted(set(uses(tree))):
            for rule, (prefix, _) in RULES.items():
                if rule not in off and (module == prefix or module.startswith(prefix + ".")):
                    hit = (where, line, lines[line - 1].strip() if line <= len(lines) else "")
                    if hit not in out.setdefault(rule, []):
                        out[rule].append(hit)
    return out


def top_level(body):
    """The module-scope statements, inside if/for/while/with/try too (a def's body is its own scope)."""
    for node in body:
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                yield from top_level(getattr(node, field, []) or [])


def bound(node):
    """The names a module-scope statement binds other than by def."""
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.With)):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [i.optional_vars for i in node.items if i.optional_vars] if isinstance(node, ast.With) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.ClassDef):
        return {node.name}
    return set()


def rebinding(sources):
    """{name: (where, line, text)}: the last top-level binding of a lab function's name after its last def."""
    events = []  # (order, name, kind, where, line, text)
    for k, (where, source) in enumerate(sources):
        tree = parse(source)
        if tree is None:
            continue
        lines = source.splitlines()
        for node in top_level(tree.body):
            text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in NAMES:
                events.append(((k, node.lineno), node.name, "def", where, node.lineno, text))
            for name in bound(node) & set(NAMES):
                events.append(((k, node.lineno), name, "bind", where, node.lineno, text))
    out = {}
    for name in NAMES:
        mine = sorted(e for e in events if e[1] == name)
        defs = [e for e in mine if e[2] == "def"]
        later = [e for e in mine if defs and e[2] == "bind" and e[0] > defs[-1][0]]
        if later:
            out[name] = later[-1][3:]
    return out


def defined(sources):
    """{name: (where, line)} of each lab function's last def."""
    out = {}
    for where, source in sources:
        tree = parse(source)
        for node in top_level(tree.body) if tree else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in NAMES:
                out[node.name] = (where, node.lineno)
    return out


def statement_lines(source):
    tree = parse(source)
    return [node.lineno for node in tree.body] if tree else []
