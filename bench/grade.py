"""How long grading the lab takes, per submission, by each route of `baremlp assignment`'s README:
`baremlp check` on the exported .py, `otter run` on the notebook, nbgrader's autograde.

    .venv/bin/python bench/grade.py                 # 40 generated submissions, every route
    .venv/bin/python bench/grade.py --n 8 --routes check,nbgrader

The submissions are the lab's solution with, in turn, none or one of a few classic mistakes (a bias left
out, the 2 of the derivation dropped, gradients never zeroed, an MSE that sums, the starter untouched).
Each route's time per submission is set beside the students' own cells run alone (the baseline: the
.py run by Python for `baremlp check`, the notebook run by nbclient in a fresh kernel for otter and
nbgrader), and the difference is the route's overhead.  One-off steps (otter assign, nbgrader's
generate_assignment) are timed apart.  nbgrader runs with this Python's bin folder first on PATH (it
calls `alembic` by name).  Needs the grading extra: pip install -e '.[grading]'.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baremlp.handout import notebooks, write

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
VARIANTS = [
    ("right", {}),
    ("no-bias", {"forward": "def forward(x, W, b, M, c):\n    return torch.relu(x @ W.T) @ M.T + c"}),
    ("grad-factor-2", {"gradients": """
def gradients(x, y, W, b, M, c, lam):
    X, Y = torch.atleast_2d(x), torch.atleast_2d(y)
    U = X @ W.T + b
    H = torch.relu(U)
    dV = (H @ M.T + c - Y) / len(X)
    dU = (dV @ M) * (U > 0)
    return {"W": dU.T @ X + 2 * lam * W, "b": dU.sum(0), "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}"""}),
    ("step-grads-not-zeroed", {"step": """
def step(params, x, y, lr, lam):
    W, b, M, c = params
    J = loss(forward(x, W, b, M, c), y) + lam * regularization(W, M)
    J.backward()
    for p in params:
        p.data -= lr * p.grad"""}),
    ("mse-sum-not-mean", {"loss": "def loss(v, y):\n    return ((torch.atleast_2d(v) - torch.atleast_2d(y)) ** 2).sum()"}),
    ("blank", None),
]


def run(cmd, cwd, check=True):
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - t, done


def code_of(nb):
    return "\n\n".join(c["source"] for c in nb["cells"] if c["cell_type"] == "code")


def execute(path):
    """Seconds to run a notebook top to bottom in a fresh kernel (errors allowed: a blank one raises)."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    t = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="submissions to grade (default 40)")
    parser.add_argument("--routes", default="check,otter,nbgrader")
    parser.add_argument("--baseline", type=int, default=4, help="submissions the baselines are timed on (default 4)")
    parser.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    routes = args.routes.split(",")
    work = Path(tempfile.mkdtemp(prefix="baremlp-grade-"))
    write(work / "lab")
    names = [f"s{i:02d}-{VARIANTS[i % len(VARIANTS)][0]}" for i in range(args.n)]
    subs = work / "subs"
    subs.mkdir()
    for i, name in enumerate(names):
        replace = VARIANTS[i % len(VARIANTS)][1]
        nb = notebooks.starter() if replace is None else notebooks.solved(**replace)
        (subs / f"{name}.ipynb").write_text(notebooks.dumps(nb), encoding="utf-8")
        (subs / f"{name}.py").write_text(code_of(nb), encoding="utf-8")
    figures = {"n": args.n, "cpus": os.cpu_count(), "load_before": os.getloadavg()[0], "routes": {}}
    sample = names[: args.baseline]

    def baselines():
        return (sum(run([sys.executable, f"{s}.py"], subs, check=False)[0] for s in sample) / len(sample),
                sum(execute(subs / f"{s}.ipynb") for s in sample) / len(sample))
    before = baselines()  # timed again at the end: a shared machine's load moves while the routes run

    if "check" in routes:
        _, help_ = run([BIN / "baremlp", "check", "--help"], subs)
        files = [f"{s}.py" for s in names]
        if re.search(r"(?<![\w-])-j\b", help_.stdout):  # -j N, not the -j of --json
            how = "baremlp check -j 2, one command"
            total, _ = run([BIN / "baremlp", "check", "-j", "2", *files], subs, check=False)
        else:
            how = "baremlp check, one file at a time (this baremlp's check has no -j)"
            total = sum(run([BIN / "baremlp", "check", f], subs, check=False)[0] for f in files)
        figures["routes"]["baremlp check"] = {"how": how, "total_s": total, "per_submission_s": total / args.n}
    if "otter" in routes:
        folder = work / "lab" / "otter"
        once, _ = run([BIN / "otter", "assign", "lab3.ipynb", "dist"], folder)
        zip_ = next((folder / "dist" / "autograder").glob("*.zip"))
        total = 0.0
        for s in names:
            (work / "otter-out" / s).mkdir(parents=True)
            total += run([BIN / "otter", "run", "-a", zip_, subs / f"{s}.ipynb", "-o", work / "otter-out" / s], work)[0]
        figures["routes"]["otter run"] = {"how": "otter run, one submission a command", "once_s": once,
                                          "once": "otter assign", "total_s": total, "per_submission_s": total / args.n}
    if "nbgrader" in routes:
        root = work / "lab" / "nbgrader"
        once, _ = run([BIN / "nbgrader", "generate_assignment", "lab3"], root)
        released = json.loads((root / "release" / "lab3" / "lab3.ipynb").read_text(encoding="utf-8"))
        for i, s in enumerate(names):
            replace = VARIANTS[i % len(VARIANTS)][1]
            (root / "submitted" / s / "lab3").mkdir(parents=True)
            nb = released if replace is None else notebooks.fill(released, **replace)
            (root / "submitted" / s / "lab3" / "lab3.ipynb").write_text(notebooks.dumps(nb), encoding="utf-8")
        total, _ = run([BIN / "nbgrader", "autograde", "lab3", "--create"], root)
        export, _ = run([BIN / "nbgrader", "export"], root)
        figures["routes"]["nbgrader autograde"] = {
            "how": "nbgrader autograde, one command for all", "once_s": once, "once": "nbgrader generate_assignment",
            "export_s": export, "total_s": total, "per_submission_s": total / args.n}

    after = baselines()
    base_py, base_nb = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    figures["baseline"] = {"python_file_s": base_py, "notebook_in_kernel_s": base_nb, "on": len(sample),
                           "before": before, "after": after}
    for f in figures["routes"].values():
        f["overhead_s"] = f["per_submission_s"] - (base_py if f["how"].startswith("baremlp check") else base_nb)
    figures["load_after"] = os.getloadavg()[0]
    print(f"{args.n} submissions, {os.cpu_count()} CPUs (load average {figures['load_before']:.1f} before, "
          f"{figures['load_after']:.1f} after); the students' own cells alone: "
          f"{base_py:.1f} s as a .py, {base_nb:.1f} s as a notebook in a fresh kernel (mean of {len(sample)}, "
          f"timed before and after the routes)")
    print(f"{'route':<22}{'total':>10}{'per submission':>16}{'overhead':>10}  one-off")
    for route, f in figures["routes"].items():
        once = f"{f['once']} {f['once_s']:.1f} s" if "once" in f else ""
        print(f"{route:<22}{f['total_s']:>9.1f}s{f['per_submission_s']:>15.2f}s{f['overhead_s']:>9.2f}s  {once}  ({f['how']})")
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
