"""`baremlp check` judging from outside: time limits, memory cap, every lab function accounted for, the
lab's rules, a notebook cell by cell, points (rubric, Gradescope, CSV) and many files at once.
The checker runs in this process (cli.main); each student's file in its own."""
import csv
import json
import sys
from pathlib import Path

import pytest

from baremlp.cli import main

GALLERY = Path(__file__).resolve().parent / "check_gallery"
RIGHT = (GALLERY / "lab_all_correct.py").read_text()


def judge(capfd, tmp_path, source, *flags, name="student.py"):
    path = tmp_path / name
    path.write_text(source)
    code = main(["check", str(path), "--json", *flags])
    out, err = capfd.readouterr()
    return code, json.loads(out), err


def statuses(result):
    return {n: p["status"] for n, p in result["functions"].items()}


def test_a_call_that_hangs_times_out_and_the_other_checks_are_still_judged(capfd, tmp_path):
    source = RIGHT.replace("def forward(x, W, b, M, c):\n", "def forward(x, W, b, M, c):\n    while True:\n        pass\n")
    code, result, _ = judge(capfd, tmp_path, source, "--timeout", "1")
    assert code == 1 and result["functions"]["forward"]["detail"] == "timed out after 1 s"
    assert statuses(result) == {"forward": "timed out", "loss": "passed", "regularization": "passed",
                                "gradients": "passed", "step": "timed out"}  # this step calls forward
    assert result["score"] == 1 + 1 + 3 + 2 and result["max_score"] == 11  # and 2 for the two rules kept


def test_a_training_loop_at_the_top_is_cut_and_a_top_level_exit_is_skipped(capfd, tmp_path):
    source = ("import os, sys\nimport torch\n" + RIGHT.split("def loss")[0] +
              "while True:\n    pass\n"        # a long training cell: cut by the time limit
              "sys.exit(3)\n"                   # recorded, and the file goes on
              "os._exit(0)\n"                   # ends the process: a fresh one runs the file without it
              "def loss" + RIGHT.split("def loss")[1])
    code, result, _ = judge(capfd, tmp_path, source, "--timeout", "1")
    assert [(e["line"], e["error"], e["timed_out"]) for e in result["errors"]] == [
        (source.splitlines().index("while True:") + 1, "timed out after 1 s", True),
        (source.splitlines().index("sys.exit(3)") + 1, "SystemExit: 3 (line %d: sys.exit(3))"
         % (source.splitlines().index("sys.exit(3)") + 1), False),
        (source.splitlines().index("os._exit(0)") + 1, "ended the process (os._exit, a signal or a crash)", False)]
    assert set(statuses(result).values()) == {"passed"} and code == 0


def test_a_script_converted_from_a_notebook_keeps_going_past_magics(capfd, tmp_path):
    source = "%matplotlib inline\n!pip install nothing\nget_ipython().run_line_magic('matplotlib', 'inline')\n" + RIGHT
    code, result, _ = judge(capfd, tmp_path, source)
    assert [(e["line"], e["error"]) for e in result["errors"]] == [
        (3, "NameError: name 'get_ipython' is not defined (line 3: get_ipython().run_line_magic('matplotlib', 'inline'))")]
    assert code == 0 and set(statuses(result).values()) == {"passed"}


def test_the_whole_submission_has_a_time_limit_too(capfd, tmp_path):
    source = "import time\n" + "time.sleep(0.4)\n" * 5 + RIGHT  # each statement within --timeout, not their sum
    code, result, _ = judge(capfd, tmp_path, source, "--timeout", "5", "--total-timeout", "1")
    assert code == 1 and result["error"] == "the submission's time ran out (1 s)"
    assert {p["status"] for p in result["functions"].values()} == {"timed out"}


def test_each_function_is_one_of_passed_failed_missing_rebound_raised(capfd, tmp_path):
    source = ("import torch\n"
              "def forward(x, W, b, M, c):\n    return torch.relu(x @ W.T) @ M.T + c\n"       # failed: no-bias
              "def loss(v, y):\n    return ((v - y) ** 2).mean()\n"
              "def regularization(W, M):\n    raise ValueError('not yet')\n"                 # raised
              "def step(params, x, y, lr, lam):\n    pass\n"
              "for epoch in range(2):\n    loss = 0.37\n")                                    # rebound
    code, result, _ = judge(capfd, tmp_path, source)
    assert code == 1 and statuses(result) == {"forward": "failed", "loss": "rebound", "regularization": "raised",
                                              "gradients": "missing", "step": "failed"}
    f = result["functions"]
    assert f["forward"]["mistakes"] == ["no-bias"] and f["gradients"]["detail"] == "not defined"
    assert f["loss"]["detail"] == "`loss = 0.37` at line 11 replaced the function"
    assert f["regularization"]["detail"].startswith("ValueError: not yet (line 7: raise ValueError('not yet'))")


def test_a_file_with_none_of_the_functions_is_a_usage_error_with_its_json(capfd, tmp_path):
    code, result, err = judge(capfd, tmp_path, "x = 1\n")
    assert code == 2 and result["status"] == "usage-error" and result["passed"] is False
    assert err.startswith("error: ") and "defines none of forward" in err and len(err.splitlines()) == 1


def test_a_memory_hog_is_stopped_by_the_cap(capfd, tmp_path):
    source = RIGHT.replace("def forward(x, W, b, M, c):\n",
                           "def forward(x, W, b, M, c):\n    hog = bytearray(2 * 1024 ** 3)\n")
    code, result, _ = judge(capfd, tmp_path, source, "--memory", "500")
    assert code == 1 and result["functions"]["forward"]["status"] == "raised"
    assert result["functions"]["forward"]["detail"].startswith("MemoryError")


def test_torch_nn_and_optim_break_the_rules_with_their_lines_and_a_flag_turns_one_off(capfd, tmp_path):
    source = ("from torch import optim\nimport torch.nn.functional as F\n" + RIGHT.replace(
        "torch.relu(x @ W.T + b)", "F.relu(x @ W.T + b)", 1))
    code, result, _ = judge(capfd, tmp_path, source)
    nn, opt = result["rules"]["no-torch-nn"], result["rules"]["no-torch-optim"]
    line = next(i for i, s in enumerate(source.splitlines(), 1) if "F.relu" in s)
    assert nn["broken"] and [h["line"] for h in nn["lines"]] == [2, line]
    assert opt["broken"] and opt["lines"] == [{"where": "", "line": 1, "text": "from torch import optim"}]
    assert code == 1 and set(statuses(result).values()) == {"passed"} and result["score"] == 9
    code, result, _ = judge(capfd, tmp_path, source, "--no-rule", "no-torch-nn", "--no-rule", "no-torch-optim")
    assert code == 0 and result["rules"] == {} and result["score"] == result["max_score"] == 9


@pytest.mark.skipif(sys.version_info < (3, 11), reason="--rubric reads TOML with tomllib (Python 3.11)")
def test_a_rubric_gradescope_and_a_csv_of_many_files_at_once(capfd, tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("[checks]\nforward = 5\nloss = 1\n\n[rules]\nno-torch-nn = 2\n")
    (tmp_path / "a.py").write_text(RIGHT)
    (tmp_path / "b.py").write_text(RIGHT.replace("x @ W.T + b", "x @ W.T", 1))
    (tmp_path / "c.ipynb").write_text("this is not a notebook")
    grades, scope = tmp_path / "grades.csv", tmp_path / "results.json"
    code = main(["check", str(tmp_path / "a.py"), "--rubric", str(rubric), "--gradescope", str(scope)])
    capfd.readouterr()
    assert code == 0
    results = json.loads(scope.read_text())
    assert results["score"] == 8 and [(t["name"], t["score"], t["max_score"]) for t in results["tests"]] == [
        ("forward", 5, 5), ("loss", 1, 1), ("regularization", 0, 0), ("gradients", 0, 0), ("step", 0, 0),
        ("rule no-torch-nn", 2, 2), ("rule no-torch-optim", 0, 0)]  # not in the rubric: checked, no points
    assert all(t["visibility"] == "visible" and t["output"] for t in results["tests"])
    code = main(["check", *(str(tmp_path / n) for n in ("a.py", "b.py", "c.ipynb")), "-j", "2", "--csv", str(grades),
                 "--rubric", str(rubric), "--json"])
    out, _ = capfd.readouterr()
    assert code == 1 and [r["status"] for r in json.loads(out)["submissions"]] == ["passed", "failed", "failed"]
    rows = list(csv.reader(grades.open()))
    assert rows[0] == ["file", "forward", "loss", "no-torch-nn", "total", "max", "status"]
    assert [r[1:] for r in rows[1:]] == [["5", "1", "2", "8", "8", "passed"], ["0", "1", "2", "3", "8", "failed"],
                                         ["0", "0", "2", "2", "8", "failed"]]


def test_bad_flags_are_one_line_usage_errors(capfd, tmp_path):
    (tmp_path / "a.py").write_text(RIGHT)
    rubric = tmp_path / "r.toml"
    rubric.write_text("[checks]\nforwrd = 2\n")
    for flags, words in ((["--timeout", "0"], "expected seconds > 0"), (["--memory", "-1"], "expected MiB ≥ 0"),
                         (["--rubric", str(rubric)], "forwrd is not one of forward"),
                         (["--no-rule", "no-numpy"], "invalid choice: 'no-numpy'"),
                         (["--csv", str(tmp_path / "no" / "grades.csv")], "cannot write it")):
        assert main(["check", str(tmp_path / "a.py"), *flags]) == 2
        err = capfd.readouterr().err
        assert words in err and len(err.splitlines()) == 1, err


def test_an_error_inside_numpy_names_the_students_line(capfd, tmp_path):
    source = RIGHT.replace("def loss(v, y):\n", "def loss(v, y):\n    import numpy as np\n"
                                                "    np.linalg.norm(np.ones(2), ord='largest')\n")
    code, result, _ = judge(capfd, tmp_path, source)
    line = next(i for i, s in enumerate(source.splitlines(), 1) if "ord='largest'" in s)
    assert result["functions"]["loss"]["status"] == "raised"
    assert f"(line {line}: np.linalg.norm(np.ones(2), ord='largest'))" in result["functions"]["loss"]["detail"]


@pytest.mark.slow
def test_the_students_process_ends_when_the_checker_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import time
    student = tmp_path / "endless.py"
    student.write_text(f"import signal, time\nopen({str(tmp_path / 'started')!r}, 'w').write('yes')\n"
                       "signal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    checker = subprocess.Popen([sys.executable, "-m", "baremlp", "check", str(student), "--timeout", "60"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if (tmp_path / "started").exists():
            break
        time.sleep(0.1)

    def students():  # processes working in the student's folder (its own pid is 1 in its namespace)
        found = []
        for p in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{p}/cwd") == str(tmp_path):
                    found.append(p)
            except OSError:
                pass
        return found
    assert students()
    checker.send_signal(signal.SIGKILL)
    checker.wait()
    time.sleep(3)  # the child's watch looks once a second
    assert not students(), "the student's process outlived the checker"
