"""One submission judged from outside: its code runs in its own process (submission.py), every verdict here.

    check_file(path, limits, marks, rules_off) -> a result (plain data, JSON as it is):
        file, passed, status ("passed", "failed", "usage-error"), error (the submission could not be loaded),
        errors      top-level statements or cells that raised or timed out: where, line, source, error
        functions   per lab function: status, one of passed / failed / missing / rebound / raised / timed out,
                    with detail, mistakes, conventions; score and max_score (grading.score)
        rules       per rule of rules.RULES not turned off: broken, lines [{where, line, text}], score, max_score
        mistakes, conventions, checks (each Report.to_dict()), reports (each Report as text), score, max_score
    check_many(paths, limits, marks, rules_off, jobs): results in order, jobs files at once; one file's
        failure (even a bug of the checker's) is that file's result and never stops the others.
"""
import re
from concurrent.futures import ProcessPoolExecutor

from .checkall import NAMES, run_checks
from .grading import score
from .remote import Ended, TimedOut
from .rules import RULES, broken, defined, rebinding, sources, statement_lines


def place(where, line):
    return ", ".join(p for p in (where, f"line {line}" if line else "") if p)


def locate(message, texts):
    """A call's error '... (line 5: u = W @ x)' with its cell named, when one cell has that line there."""
    found = re.search(r"\(line (\d+): (.*)\)(?=(?: on [^()]*)?$)", message)
    if not found:
        return message
    line, text = int(found.group(1)), found.group(2).strip()
    cells = [where for where, source in texts if where and len(source.splitlines()) >= line
             and source.splitlines()[line - 1].strip() == text]
    return message[:found.start()] + f"({cells[0]}, line {line}: {text})" + message[found.end():] \
        if len(cells) == 1 else message


def status_of(report):
    if report.passed:
        return "passed", ""
    if report.mistakes or not report.error:
        return "failed", "; ".join(report.differences[:1]) if not report.mistakes else ""
    return "raised", report.error


def top_errors(sub, texts, notebook):
    """The submission's top-level errors with their place: a .py statement's line, a notebook's cell."""
    lines = statement_lines(texts[0][1]) if texts and not notebook else []
    cells = [where for where, _ in texts]
    out = []
    for e in sub.errors:
        i = e.get("index", 0)
        where = e.get("where") or (cells[i] if notebook and i < len(cells) else "")
        line = e.get("line") or (lines[i] if not notebook and i < len(lines) else None)
        out.append({"where": where, "line": line, "source": e.get("source", ""), "error": str(e.get("error", "")),
                    "timed_out": bool(e.get("timed_out"))})
    return out


def check_file(path, limits, marks, rules_off=()):
    from .submission import Submission
    texts = sources(path)
    result = {"file": str(path), "passed": False, "status": "failed", "error": "", "errors": [], "functions": {},
              "rules": {}, "mistakes": [], "conventions": [], "checks": {}, "reports": {}}
    hits = broken(texts, rules_off)
    result["rules"] = {rule: {"broken": bool(hits.get(rule)), "lines": [
        {"where": w, "line": n, "text": t} for w, n, t in hits.get(rule, [])]} for rule in RULES if rule not in rules_off}
    defs, rebound = defined(texts), rebinding(texts)
    sub, found, reports, lost, bound, ran_out = None, {}, {}, {}, {}, False
    try:
        sub = Submission(path, limits)
        bound = sub.functions
        result["errors"] = top_errors(sub, texts, str(path).endswith(".ipynb"))
        found = {name: sub.function(name) for name, info in bound.items() if info.get("callable") and name in NAMES}
        if not found and not defs and not bound:
            result.update(status="usage-error", error=f"{path} defines none of {', '.join(NAMES)}: nothing to check")
            return score(result, marks)
        reports, lost = run_checks(found)
    except (TimedOut, Ended) as e:
        result["error"] = str(e) or "the submission could not be run"
        ran_out = isinstance(e, TimedOut)
    finally:
        if sub is not None:
            sub.close()
    for name in NAMES:
        if name in lost:
            part = {"status": lost[name][0], "detail": lost[name][1]}
        elif name in reports:
            status, detail = status_of(reports[name])
            part = {"status": status, "detail": locate(detail, texts), "mistakes": list(reports[name].mistakes),
                    "conventions": list(reports[name].conventions)}
        elif name in bound:
            w = rebound.get(name)
            part = {"status": "rebound", "detail": f"`{w[2]}` at {place(w[0], w[1])} replaced the function" if w
                    else f"{name} is a {bound[name].get('type')} at the end, not a function"}
        elif ran_out and (name in defs or marks["checks"].get(name, 0) > 0):
            part = {"status": "timed out", "detail": result["error"]}
        elif name in defs:
            part = {"status": "missing", "detail": f"not defined: its def at {place(*defs[name])} never ran"}
        elif marks["checks"].get(name, 0) > 0:
            part = {"status": "missing", "detail": "not defined"}
        else:
            continue
        result["functions"][name] = {"mistakes": [], "conventions": [], **part}
    for name, report in reports.items():
        result["checks"][name] = report.to_dict()
        result["reports"][name] = str(report)
        result["mistakes"] += [m for m in report.mistakes if m not in result["mistakes"]]
        result["conventions"] += [c for c in report.conventions if c not in result["conventions"]]
    kept = all(not part["broken"] for part in result["rules"].values())
    result["passed"] = bool(result["functions"]) and kept and not result["error"] and \
        all(part["status"] == "passed" for part in result["functions"].values())
    result["status"] = "passed" if result["passed"] else "failed"
    return score(result, marks)


def check_safely(path, limits, marks, rules_off):
    try:
        return check_file(path, limits, marks, rules_off)
    except Exception as e:  # a bug of the checker's on this file: that file's result, the others go on
        return score({"file": str(path), "passed": False, "status": "error", "error": f"the checker failed on this "
                      f"file ({type(e).__name__}: {e}); please report it", "functions": {}, "rules": {}}, marks)


def check_many(paths, limits, marks, rules_off=(), jobs=1):
    if jobs <= 1 or len(paths) <= 1:
        return [check_safely(p, limits, marks, rules_off) for p in paths]
    import multiprocessing
    with ProcessPoolExecutor(min(jobs, len(paths)), mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(check_safely, p, limits, marks, rules_off) for p in paths]
    return [f.result() for f in futures]
