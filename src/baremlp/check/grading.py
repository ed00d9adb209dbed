"""Points for a checked submission: the rubric, the scores, and the files a grader keeps.

    rubric(path=None)          {"checks": {name: points}, "rules": {rule: points}}: the lab's (RUBRIC), or a TOML
                               file's tables [checks] and [rules]; a check of 0 points is checked only when defined
    score(result, rubric)      puts score and max_score on each function and rule of a result, and on the whole
    text(result)               the result as lines for a terminal
    gradescope(result)         Gradescope's results.json: tests with name, score, max_score, output, visibility
    csv_rows(results, rubric)  a header and one row per submission: file, each check's points, total, status

A result is the dict checkall.check_file makes (docs/check.md, "For grading").
"""
import sys

from baremlp.errors import UsageError

from .rules import RULES

RUBRIC = {"checks": {"forward": 2, "loss": 1, "cross_entropy": 0, "regularization": 1, "gradients": 3, "step": 2},
          "rules": {"no-torch-nn": 1, "no-torch-optim": 1}}


def rubric(path=None):
    if path is None:
        return {k: dict(v) for k, v in RUBRIC.items()}
    if sys.version_info < (3, 11):
        raise UsageError("--rubric needs Python 3.11 or later (tomllib); without it the lab's rubric applies")
    import tomllib
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError:
        raise UsageError(f"{path}: no such rubric file") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: not TOML ({e})") from None
    out = {"checks": {}, "rules": {}}
    for table, known in (("checks", RUBRIC["checks"]), ("rules", RULES)):
        for name, points in (data.get(table) or {}).items():
            if name not in known:
                raise UsageError(f"{path}: [{table}] {name} is not one of {', '.join(known)}")
            if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
                raise UsageError(f"{path}: [{table}] {name} = {points!r}, expected points ≥ 0")
            out[table][name] = points
    if not out["checks"]:
        raise UsageError(f"{path}: no [checks] table: which functions earn points?")
    return out


def score(result, marks):
    """Full points for a passed check or a kept rule, none otherwise; totals on the result."""
    total = most = 0
    for name, part in result.get("functions", {}).items():
        part["max_score"] = marks["checks"].get(name, 0)
        part["score"] = part["max_score"] if part["status"] == "passed" else 0
    for rule, part in result.get("rules", {}).items():
        part["max_score"] = marks["rules"].get(rule, 0)
        part["score"] = 0 if part["broken"] else part["max_score"]
    for part in list(result.get("functions", {}).values()) + list(result.get("rules", {}).values()):
        total, most = total + part["score"], most + part["max_score"]
    result["score"], result["max_score"] = total, most
    return result


def where(item):
    place = ", ".join(p for p in (item.get("where") or "", f"line {item['line']}" if item.get("line") else "") if p)
    return f"{place}: " if place else ""


def function_line(name, part):
    status = part["status"]
    extra = f" ({', '.join(part['mistakes'])})" if status == "failed" and part.get("mistakes") else ""
    detail = f": {part['detail']}" if part.get("detail") and status != "passed" else ""
    points = f"  [{part['score']:g}/{part['max_score']:g}]" if "score" in part else ""
    return f"  {name}: {status}{extra}{detail}{points}"


def text(result):
    lines = [f"{result['file']}:"]
    if result.get("error"):
        lines.append(f"  error: {result['error']}")
    for item in result.get("errors", []):
        lines.append(f"  {'timed out' if item.get('timed_out') else 'raised'}: {where(item)}{item['error']}"
                     + (f"  ({item['source']})" if item.get("source") else ""))
    for name, part in result.get("functions", {}).items():
        lines.append(function_line(name, part))
    for rule, part in result.get("rules", {}).items():
        if part["broken"]:
            lines.append(f"  rule {rule} broken: {RULES[rule][1]}")
            lines += [f"      {where(hit)}{hit['text']}" for hit in part["lines"]]
    for name, report in result.get("reports", {}).items():
        if result["functions"][name]["status"] in ("failed", "raised"):
            lines += ["  " + line for line in report.splitlines()]
    if "score" in result:
        lines.append(f"  score {result['score']:g}/{result['max_score']:g}: {result['status']}")
    return "\n".join(lines)


def gradescope(result):
    tests = [{"name": name, "score": part.get("score", 0), "max_score": part.get("max_score", 0),
              "status": "passed" if part["status"] == "passed" else "failed", "visibility": "visible",
              "output": function_line(name, part).strip() + ("\n" + result.get("reports", {}).get(name, "")
                                                              if part["status"] != "passed" else "")}
             for name, part in result.get("functions", {}).items()]
    tests += [{"name": f"rule {rule}", "score": part.get("score", 0), "max_score": part.get("max_score", 0),
               "status": "failed" if part["broken"] else "passed", "visibility": "visible",
               "output": "\n".join([RULES[rule][1]] + [f"{where(h)}{h['text']}" for h in part["lines"]])
               if part["broken"] else "kept"} for rule, part in result.get("rules", {}).items()]
    return {"score": result.get("score", 0), "output": text(result), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def csv_rows(results, marks):
    checks, rules = list(marks["checks"]), list(marks["rules"])
    rows = [["file"] + checks + rules + ["total", "max", "status"]]
    for r in results:
        points = [r.get("functions", {}).get(n, {}).get("score", 0) for n in checks] + \
                 [r.get("rules", {}).get(n, {}).get("score", 0) for n in rules]
        rows.append([r["file"]] + points + [r.get("score", 0), r.get("max_score", 0), r["status"]])
    return rows
