#!/usr/bin/env python
"""Benchmark: baremlp against its peers, the same work measured in one run.

    .venv/bin/python bench/run.py [--quick] [--repeats N] [--device cpu|cuda] [--threads N] [--json PATH]
    .venv/bin/python bench/run.py --instructions [--json PATH]   # case 1 in instructions (callgrind)
    make bench                    # full mode, on the CPU, as many threads as cores

In the spirit of nanoGPT's bench.py: each case is a stripped copy of a training step, run once
before the clock (burn-in), then timed --repeats times (default 5) with its peers interleaved
(a, b, c, a, b, c, ...) so that machine noise hits them alike.  Tables show the median of the
repeats; a ratio (a column X/peer) is taken in every repeat, between two calls that ran moments
apart, and its median is shown and judged against the target, with its min–max spread.
  1. per-sample SGD (batch 1), 2-3-2 rotation network, one epoch of 1000 steps, µs/step: baremlp
     eager, manual (hand-written backward) and compiled (its first call, the compile, apart),
     torch.nn + torch.optim.SGD, and a naive hand loop on bare tensors;
  2. batched training of 784-256-128-10, batch 128, cross-entropy, one epoch of 12800 synthetic
     samples of Fashion-MNIST's shape: samples/s, GFLOP/s (6 x weights x samples / time) and share
     of the roofline (the step's bare matrix products in a loop) of baremlp (eager, compiled, manual),
     torch.nn, scikit-learn; the same products on NumPy's BLAS, and the bound: the bare products'
     time over scikit-learn's;
  3. inference of the same network in batches of 1024, samples/s: baremlp's net(x), torch.nn.
It prints the machine, one table per case (X/peer columns: time of X / time of the peer) and
whether each target is met.  --json PATH writes every figure, raw repeats and the machine; --quick
shrinks every case so that the run takes well under a minute (a smoke check).  --instructions
counts instead the instructions of a case-1 step of every peer but the compiled one, under
valgrind's callgrind on one thread: a second figure that machine noise does not touch.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import torch
import torch.nn.functional as F

from baremlp import MLP, datasets, train

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from helpers import torch_nn_copy  # noqa: E402  (the tests' oracle: torch.nn holding our parameters)

try:  # the bench extra: pip install -e '.[bench]'
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits
except ImportError:
    MLPClassifier = threadpool_limits = None

SIZES = [784, 256, 128, 10]
TARGETS = [  # (case, row, column, comparison, bound, wording); batched ones as restated in issue 15
    ("1", "torch.nn", "eager/peer", "<=", 0.6, "per-sample eager step <= 0.6 x torch.nn"),
    ("1", "torch.nn", "compiled/peer", "<=", 0.1, "per-sample compiled step (steady) <= 0.1 x torch.nn"),
    ("1", "torch.nn", "manual/peer", "<=", 0.4, "per-sample manual step <= 0.4 x torch.nn"),
    ("1", "eager", "manual/peer", "<=", 0.8, "per-sample manual step <= 0.8 x eager"),
    ("2", "torch.nn", "baremlp/peer", "<=", 1.0, "batched eager training time <= 1.0 x torch.nn"),
    ("2", "baremlp", "of roofline", ">=", 0.75, "batched eager training >= 75 % of the roofline GFLOP/s"),
    # scikit-learn is the compiled engine's to beat (--engine compiled)
    ("2", "torch.nn", "compiled/peer", "<=", 0.8, "batched compiled time <= 0.8 x torch.nn"),
    ("2", "compiled", "of roofline", ">=", 0.85, "batched compiled >= 85 % of the roofline GFLOP/s"),
    ("2", "sklearn", "compiled/peer", "<=", 0.6, "batched compiled time <= 0.6 x scikit-learn"),
]
RATIO_ORDER = ("baremlp/peer", "eager/peer", "compiled/peer", "manual/peer", "roofline/peer")  # table columns
MIN_REPEATS = 5  # a target is judged on the median of at least this many repeats of its ratio


def machine():
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpu": cpu,
            "cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "load average": os.getloadavg()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def interleaved(fns, repeats, sync, settle=0.1):
    """{name: fn} -> {name: [seconds of each repeat]}: one untimed burn-in call of each fn, then
    `repeats` rounds of one call each.  Each timed call waits `settle` s first (untimed), so that the
    previous peer's spinning worker threads (OpenBLAS, OpenMP) are asleep and leave the cores free."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            time.sleep(settle)
            sync()
            t0 = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - t0)
    return times


def ratio(times, a, b, scale=1.0):
    """scale × (time of a / time of b) in every repeat, a and b having run moments apart in it:
    (median, min, max) over the repeats.  Machine noise that hits a repeat hits both alike."""
    ratios = [scale * ta / tb for ta, tb in zip(times[a], times[b])]
    return statistics.median(ratios), min(ratios), max(ratios)


def put(rows, spread, row, column, r):
    """Writes ratio()'s median into the table and its (min, max) into the case's spreads."""
    rows[row][column] = r[0]
    spread[f"{row} | {column}"] = list(r[1:])


def shuffled(x, y, seed=0):
    """Rows of x, y in a fresh random order: the shuffle every trainer pays once an epoch."""
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed)).to(x.device)
    return x[order], y[order]


def torch_nn_epoch(model, opt, loss_fn, x, y, batch_size):
    xs, ys = shuffled(x, y)
    for xb, yb in zip(xs.split(batch_size), ys.split(batch_size)):
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()


def naive_epoch(params, x, y, lr):
    """The textbook loop on bare leaf tensors: p.data -= lr * p.grad; p.grad.zero_()."""
    W1, b1, W2, b2 = params
    xs, ys = shuffled(x, y)
    for xb, yb in zip(xs.split(1), ys.split(1)):
        v = torch.relu(xb @ W1.t() + b1) @ W2.t() + b2
        ((v - yb) ** 2).sum(1).mean().backward()
        for p in params:
            p.data -= lr * p.grad
            p.grad.zero_()


def first_call(compiled, sync):
    """Runs the compiled engine's first call (the compile and one epoch): {'s': seconds}, or {'error': why}."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:  # no torch.compile here: train warns, runs eager
        warnings.simplefilter("always")
        try:
            compiled()
            sync()
            error = next((str(w.message) for w in caught if "unavailable" in str(w.message)), None)
        except Exception as e:
            error = f"{type(e).__name__}: {e}".splitlines()[0]
    return {"error": error} if error else {"s": time.perf_counter() - t0}


def per_sample_peers(n, device, lr=0.04):
    """({name: one epoch of per-sample SGD on datasets.linear(n)} for baremlp's eager and manual
    engines, torch.nn and the naive loop, the compiled engine's epoch apart): case 1's peers."""
    x, y = (t.to(device) for t in datasets.linear(n, seed=0))
    nets = {k: MLP([2, 3, 2], seed=0, device=device) for k in ("eager", "manual", "compiled", "naive")}
    model = torch_nn_copy(nets["eager"])
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    params = [p.detach().clone().requires_grad_() for p in nets["naive"].parameters]
    for p in params:
        p.grad = torch.zeros_like(p)

    def baremlp_epoch(engine):
        return lambda: train(nets[engine], x, y, lr=lr, epochs=1, batch_size=1, seed=0, reg=0, engine=engine)
    fns = {"eager": baremlp_epoch("eager"), "manual": baremlp_epoch("manual"),
           "torch.nn": lambda: torch_nn_epoch(model, opt, lambda v, t: ((v - t) ** 2).sum(1).mean(), x, y, 1),
           "naive": lambda: naive_epoch(params, x, y, lr)}
    return fns, baremlp_epoch("compiled")


# case 1's ratios: (peer, the engines timed against it)
PAIRS_1 = (("torch.nn", ("eager", "compiled", "manual")), ("naive", ("eager", "manual")), ("eager", ("manual",)))


def case_per_sample(n, repeats, device, sync):
    fns, compiled = per_sample_peers(n, device)
    rows = {"compiled first call": first_call(compiled, sync)}
    if "error" not in rows["compiled first call"]:
        fns["compiled"] = compiled
    times = interleaved(fns, repeats, sync)
    rows.update({k: {"us/step": statistics.median(ts) / n * 1e6} for k, ts in times.items()})
    spread = {}
    for peer, engines in PAIRS_1:
        for engine in engines:
            if engine in times:
                put(rows, spread, peer, f"{engine}/peer", ratio(times, engine, peer))
    return rows, times, spread


def roofline(batch, steps, device, blas="torch"):
    """The matrix products of `steps` training steps, as a loop of torch.mm into preallocated outputs:
    forward X Wᵀ per layer; backward dUᵀ X (weight grad) per layer and dU W (input grad) per layer but
    the first.  blas="numpy": the same products with NumPy's matmul, the BLAS scikit-learn runs on
    (on the CPU).  Returns (fn, its exact flop count)."""
    g = torch.Generator().manual_seed(0)
    acts = [torch.rand(batch, s, generator=g) for s in SIZES]
    grads = [torch.rand(batch, s, generator=g) for s in SIZES]
    Ws = [torch.randn(o, i, generator=g) for i, o in zip(SIZES[:-1], SIZES[1:])]
    products = [(acts[i], W.t(), acts[i + 1]) for i, W in enumerate(Ws)]
    products += [(grads[i + 1].t(), acts[i], torch.empty_like(W)) for i, W in enumerate(Ws)]
    products += [(grads[i + 1], W, grads[i]) for i, W in enumerate(Ws) if i > 0]
    flops = steps * sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in products)
    if blas == "numpy":
        import numpy as np
        products = [(a.numpy(), b.numpy(), out.numpy()) for a, b, out in products]
        mm = np.matmul
    else:
        products = [tuple(t.to(device) for t in p) for p in products]
        mm = torch.mm

    def run():
        for _ in range(steps):
            for a, b, out in products:
                mm(a, b, out=out)
    return run, flops


def case_batched(n, repeats, device, sync, batch=128, lr=0.01):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, SIZES[0], generator=g), torch.randint(0, SIZES[-1], (n,), generator=g)
    xn, yn = x.numpy(), y.numpy()
    x, y = x.to(device), y.to(device)
    net = MLP(SIZES, seed=0, init="he", device=device)
    net_compiled = MLP(SIZES, seed=0, init="he", device=device)
    net_manual = MLP(SIZES, seed=0, init="he", device=device)
    model = torch_nn_copy(net)
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def sklearn_fit():  # on the CPU, whatever --device says
        clf = MLPClassifier(hidden_layer_sizes=tuple(SIZES[1:-1]), solver="sgd", batch_size=batch,
                            learning_rate_init=lr, momentum=0, alpha=0, max_iter=1, shuffle=True,
                            tol=0, n_iter_no_change=10**9, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(xn, yn)
    fns = {"baremlp": lambda: train(net, x, y, loss="cross-entropy", lr=lr, epochs=1, batch_size=batch, seed=0),
           "manual": lambda: train(net_manual, x, y, loss="cross-entropy", lr=lr, epochs=1, batch_size=batch, seed=0,
                                   engine="manual"),
           "torch.nn": lambda: torch_nn_epoch(model, opt, F.cross_entropy, x, y, batch)}
    compiled = lambda: train(net_compiled, x, y, loss="cross-entropy", lr=lr, epochs=1, batch_size=batch, seed=0,
                             engine="compiled")
    rows = {"compiled first call": first_call(compiled, sync)}
    if "error" not in rows["compiled first call"]:
        fns["compiled"] = compiled
    if MLPClassifier:
        fns["sklearn"] = sklearn_fit
    else:
        rows["sklearn"] = {"error": "not installed: pip install -e '.[bench]'"}
    fns["roofline"], roof_flops = roofline(batch, n // batch, device)
    if MLPClassifier:  # the products again on scikit-learn's BLAS: how fast its matrix products are here
        fns["roofline numpy"], _ = roofline(batch, n // batch, device, blas="numpy")
    times = interleaved(fns, repeats, sync)
    weights = sum(i * o for i, o in zip(SIZES[:-1], SIZES[1:]))
    flops, spread = {}, {}
    for k, ts in times.items():
        t = statistics.median(ts)
        samples = n // batch * batch if k.startswith("roofline") else n
        flops[k] = roof_flops if k.startswith("roofline") else 6 * weights * n
        rows[k] = {"s/epoch": t, "samples/s": samples / t, "GFLOP/s": flops[k] / t / 1e9}
    for k in times:  # "of roofline" in GFLOP/s as the issue defines it; "roof t / t" in plain time
        put(rows, spread, k, "of roofline", ratio(times, "roofline", k, scale=flops[k] / roof_flops))
        put(rows, spread, k, "roof t / t", ratio(times, "roofline", k))
        if k in ("torch.nn", "sklearn"):
            for engine in ("baremlp", "compiled", "manual"):
                if engine in times:
                    put(rows, spread, k, f"{engine}/peer", ratio(times, engine, k))
    if "sklearn" in times:  # no trainer on torch.mm can beat this ratio to scikit-learn
        put(rows, spread, "sklearn", "roofline/peer", ratio(times, "roofline", "sklearn"))
    return rows, times, spread


def case_inference(n, repeats, device, sync, batch=1024):
    x = torch.rand(n, SIZES[0], generator=torch.Generator().manual_seed(0)).to(device)
    net = MLP(SIZES, seed=0, init="he", device=device)
    model = torch_nn_copy(net)

    def infer(f):
        with torch.inference_mode():
            for xb in x.split(batch):
                f(xb)
    times = interleaved({"baremlp": lambda: infer(net), "torch.nn": lambda: infer(model)}, repeats, sync)
    rows = {k: {"samples/s": n / statistics.median(ts)} for k, ts in times.items()}
    spread = {}
    put(rows, spread, "torch.nn", "baremlp/peer", ratio(times, "baremlp", "torch.nn"))
    return rows, times, spread


def report(results):
    m = results["machine"]
    print(f"\n{results['date']}  {m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['threads']} threads, "
          f"device {results['device']}{' (' + m['gpu'] + ')' if 'gpu' in m else ''}, "
          f"median of {results['repeats']}, load average {m['load average'][0]:.2f}")
    for name, case in results["cases"].items():
        columns = list(dict.fromkeys(c for row in case["rows"].values() for c in row if c != "error"))
        columns.sort(key=lambda c: (c.endswith("/peer"), RATIO_ORDER.index(c) if c in RATIO_ORDER else 0))
        print(f"\n{name}: {case['what']}\n  {'':<20}" + "".join(f"{c:>14}" for c in columns))
        for peer, row in case["rows"].items():
            cells = "".join(f"{row[c]:>14,.{1 if row[c] >= 100 else 3}f}" if c in row else " " * 14 for c in columns)
            print(f"  {peer:<20}{cells}{'  ' + row['error'] if 'error' in row else ''}")
    print(f"\ntargets (ratios of time, baremlp / peer; the roofline ones of GFLOP/s): the median of the ratio "
          f"over {results['repeats']} repeats, (min–max)")
    for t in results["targets"]:
        shown = "n/a" if t["value"] is None else f"{t['value']:.3f} ({t['min']:.3f}–{t['max']:.3f})"
        verdict = {True: "met", False: "NOT met", None: f"not judged: fewer than {MIN_REPEATS} repeats"}[t["met"]]
        print(f"  {t['target']:<56}{shown:>22}  {verdict}{'  (noisy repeats)' if t['noisy'] else ''}")
    rows = results["cases"].get("2", {}).get("rows", {})
    if "roofline/peer" in rows.get("sklearn", {}):
        print(f"\nbound: the bare torch.mm products of an epoch take {rows['sklearn']['roofline/peer']:.3f} x scikit-learn's "
              f"whole epoch; NumPy's BLAS (scikit-learn's) does the same products in "
              f"{rows['roofline numpy']['s/epoch'] / rows['roofline']['s/epoch']:.3f} x torch.mm's time")
    if results["noisy"]:
        print("\nnoisy: the slowest repeat took over 1.5 x the fastest for " + ", ".join(
            f"{k} ({v:.1f} x)" for k, v in results["noisy"].items()) + "; is the machine busy?"
              + (" (try --threads 1)" if results["machine"]["threads"] > 1 else ""))


def read_total(path):
    """The instruction count (Ir) of one callgrind dump file."""
    with open(path) as f:
        return next(int(line.split()[1]) for line in f if line.startswith(("summary:", "totals:")))


def callgrind_child(small, big):
    """Runs under callgrind (--dump-before=getppid): every os.getppid() call dumps the counts so far
    and zeroes them.  After the burn-in, each peer's epoch of `small` samples, then of `big`."""
    torch.set_num_threads(1)
    epochs = {n: per_sample_peers(n, "cpu")[0] for n in (small, big)}
    for n in (small, big):
        for fn in epochs[n].values():
            fn()  # burn-in: first calls allocate and fill caches
    os.getppid()  # dump 1: the import and the burn-in, discarded
    for fn_small, fn_big in zip(epochs[small].values(), epochs[big].values()):
        fn_small()
        os.getppid()
        fn_big()
        os.getppid()
    print(json.dumps(list(epochs[small])))


def count_instructions(small=10, big=510):
    """{peer: instructions per case-1 step}: (I(epoch of `big` samples) − I(epoch of `small`)) / (big − small),
    each counted by callgrind on one thread, so that what an epoch costs besides its steps cancels out."""
    if shutil.which("valgrind") is None:
        sys.exit("error: --instructions needs valgrind on PATH (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        child = subprocess.run(
            ["valgrind", "--tool=callgrind", "--dump-before=getppid", f"--callgrind-out-file={out}",
             sys.executable, os.path.abspath(__file__), "--callgrind-child", f"{small},{big}"],
            env=dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"), capture_output=True, text=True)
        if child.returncode:
            sys.exit(f"error: the callgrind run failed:\n{child.stderr[-3000:]}")
        names = json.loads(child.stdout.splitlines()[-1])
        dumps = sorted((f for f in os.listdir(tmp) if f.startswith("cg.out.")), key=lambda f: int(f.rsplit(".", 1)[1]))
        if len(dumps) != 1 + 2 * len(names):
            sys.exit(f"error: expected {1 + 2 * len(names)} callgrind dumps, found {len(dumps)}: "
                     "something else called getppid()")
        totals = [read_total(os.path.join(tmp, f)) for f in dumps]
    return {name: (totals[2 + 2 * i] - totals[1 + 2 * i]) / (big - small) for i, name in enumerate(names)}


def report_instructions(counts):
    print("\ninstructions per step of case 1 (callgrind, one thread, (I(510-sample epoch) − I(10-sample epoch)) / 500)")
    for name, count in counts.items():
        print(f"  {name:<12}{count:>12,.0f}")
    print("\ncase-1 targets in instructions (a noise-free second figure; the verdicts rest on time)")
    for case, row, column, op, bound, wording in TARGETS:
        engine = column.split("/")[0]
        if case == "1" and row in counts and engine in counts:
            value = counts[engine] / counts[row]
            print(f"  {wording:<56}{value:>8.3f}  {'within' if value <= bound else 'beyond'} the bound")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small cases, for a smoke check")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median reported)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads of every peer (default: cores)")
    ap.add_argument("--json", metavar="PATH", help="write every figure and the machine to this file")
    ap.add_argument("--instructions", action="store_true",
                    help="count case 1's instructions per step under valgrind's callgrind instead (several "
                         "minutes: Python and torch start under callgrind)")
    ap.add_argument("--callgrind-child", help=argparse.SUPPRESS)  # the process that callgrind runs
    args = ap.parse_args()
    if args.callgrind_child:
        return callgrind_child(*map(int, args.callgrind_child.split(",")))
    if args.instructions:
        counts = count_instructions()
        report_instructions(counts)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
                           "instructions per step": counts}, f, indent=1)
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda asked for, but CUDA is not available here")
    torch.set_num_threads(args.threads)
    if threadpool_limits:  # the same thread count for scikit-learn's BLAS and OpenMP pools
        threadpool_limits(args.threads)
    print(f"torch.set_num_threads({args.threads}): torch.get_num_threads() = {torch.get_num_threads()}")
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    n1, n2, n3 = (200, 1280, 2048) if args.quick else (1000, 12800, 10240)
    cases = {"1": (case_per_sample, n1, f"per-sample SGD, 2-3-2 rotation, batch 1, one epoch of {n1} steps"),
             "2": (case_batched, n2, f"batched training, 784-256-128-10, batch 128, cross-entropy, {n2} samples"),
             "3": (case_inference, n3, f"inference, 784-256-128-10, batches of 1024, {n3} samples")}
    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "device": args.device,
               "quick": args.quick, "repeats": args.repeats, "cases": {}}
    for name, (fn, n, what) in cases.items():
        print(f"running case {name} ...", flush=True)
        rows, times, spread = fn(n, args.repeats, args.device, sync)
        results["cases"][name] = {"what": what, "rows": rows, "raw seconds": times, "spread": spread}
    results["machine"] = machine()
    results["noisy"] = {f"{c} {k}": max(ts) / min(ts) for c, case in results["cases"].items()
                        for k, ts in case["raw seconds"].items() if max(ts) > 1.5 * min(ts)}
    results["targets"] = []
    for case, row, column, op, bound, wording in TARGETS:
        value = results["cases"][case]["rows"].get(row, {}).get(column)
        low, high = results["cases"][case]["spread"].get(f"{row} | {column}", (None, None))
        met = value is not None and (value <= bound if op == "<=" else value >= bound)
        if value is not None and args.repeats < MIN_REPEATS:
            met = None
        other = column.split("/")[0] if column.endswith("/peer") else "roofline"
        noisy = any(f"{case} {k}" in results["noisy"] for k in (row, other))
        results["targets"].append({"target": wording, "value": value, "min": low, "max": high, "bound": bound,
                                   "met": met, "noisy": noisy})
    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
