#!/usr/bin/env python
"""Benchmark: baremlp against its peers, the same work measured in one run.

    .venv/bin/python bench/run.py [--quick] [--repeats N] [--device cpu|cuda] [--threads N] [--json PATH]
    make bench                    # full mode, on the CPU, as many threads as cores

In the spirit of nanoGPT's bench.py: each case is a stripped copy of a training step, run once
before the clock (burn-in), then timed --repeats times (default 5) with its peers interleaved
(a, b, c, a, b, c, ...) so that machine noise hits them alike; the median is reported.
  1. per-sample SGD (batch 1), 2-3-2 rotation network, one epoch of 1000 steps, µs/step: baremlp
     eager, baremlp compiled (its first call, the compile, apart), torch.nn + torch.optim.SGD, and a
     naive hand loop on bare tensors;
  2. batched training of 784-256-128-10, batch 128, cross-entropy, one epoch of 12800 synthetic
     samples of Fashion-MNIST's shape: samples/s, GFLOP/s (6 x weights x samples / time) and share
     of the roofline (the step's bare matrix products in a loop) of baremlp, torch.nn, scikit-learn;
     the same products on NumPy's BLAS, and the bound: the bare products' time over scikit-learn's;
  3. inference of the same network in batches of 1024, samples/s: baremlp's net(x), torch.nn.
It prints the machine, one table per case (X/peer columns: time of X / time of the peer) and
whether each target of the issue is met.  --json PATH writes every figure, raw repeats and the
machine; --quick shrinks every case so that the run takes well under a minute (a smoke check).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import time
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from baremlp import MLP, datasets, train

try:  # the bench extra: pip install -e '.[bench]'
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits
except ImportError:
    MLPClassifier = threadpool_limits = None

SIZES = [784, 256, 128, 10]
TARGETS = [  # (case, row, column, comparison, bound, wording)
    ("1", "torch.nn", "eager/peer", "<=", 0.6, "per-sample eager step <= 0.6 x torch.nn"),
    ("1", "torch.nn", "compiled/peer", "<=", 0.1, "per-sample compiled step (steady) <= 0.1 x torch.nn"),
    ("2", "torch.nn", "baremlp/peer", "<=", 0.9, "batched training time <= 0.9 x torch.nn"),
    ("2", "baremlp", "of roofline", ">=", 0.85, "batched training >= 85 % of the roofline GFLOP/s"),
    ("2", "sklearn", "baremlp/peer", "<=", 0.6, "batched training time <= 0.6 x scikit-learn"),
    # the same three for the opt-in compiled engine (--engine compiled)
    ("2", "torch.nn", "compiled/peer", "<=", 0.9, "  compiled engine: batched time <= 0.9 x torch.nn"),
    ("2", "compiled", "of roofline", ">=", 0.85, "  compiled engine: batched >= 85 % of the roofline"),
    ("2", "sklearn", "compiled/peer", "<=", 0.6, "  compiled engine: batched time <= 0.6 x scikit-learn"),
]


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


def torch_nn_copy(net):
    """torch.nn.Sequential(Linear, ReLU, ..., Linear) holding a copy of net's parameters."""
    layers = []
    for W, b in zip(net.weights, net.biases):
        lin = nn.Linear(W.shape[1], W.shape[0], device=W.device)
        with torch.no_grad():
            lin.weight.copy_(W)
            lin.bias.copy_(b)
        layers += [lin, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


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


def case_per_sample(n, repeats, device, sync, lr=0.04):
    x, y = (t.to(device) for t in datasets.linear(n, seed=0))
    nets = {k: MLP([2, 3, 2], seed=0, device=device) for k in ("eager", "compiled", "naive")}
    model = torch_nn_copy(nets["eager"])
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    params = [p.detach().clone().requires_grad_() for p in nets["naive"].parameters]
    for p in params:
        p.grad = torch.zeros_like(p)
    fns = {"eager": lambda: train(nets["eager"], x, y, lr=lr, epochs=1, batch_size=1, seed=0, reg=0),
           "torch.nn": lambda: torch_nn_epoch(model, opt, lambda v, t: ((v - t) ** 2).sum(1).mean(), x, y, 1),
           "naive": lambda: naive_epoch(params, x, y, lr)}
    compiled = lambda: train(nets["compiled"], x, y, lr=lr, epochs=1, batch_size=1, seed=0, reg=0, engine="compiled")
    rows = {"compiled first call": first_call(compiled, sync)}
    if "error" not in rows["compiled first call"]:
        fns["compiled"] = compiled
    times = interleaved(fns, repeats, sync)
    rows.update({k: {"us/step": statistics.median(ts) / n * 1e6} for k, ts in times.items()})
    for peer, engines in (("torch.nn", ("eager", "compiled")), ("naive", ("eager",))):
        for engine in engines:
            if engine in times:
                rows[peer][f"{engine}/peer"] = rows[engine]["us/step"] / rows[peer]["us/step"]
    return rows, times


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
    for k, ts in times.items():
        t = statistics.median(ts)
        samples = n // batch * batch if k.startswith("roofline") else n
        flops = roof_flops if k.startswith("roofline") else 6 * weights * n
        rows[k] = {"s/epoch": t, "samples/s": samples / t, "GFLOP/s": flops / t / 1e9}
    for k in times:  # "of roofline" in GFLOP/s as the issue defines it; "roof t / t" in plain time
        rows[k]["of roofline"] = rows[k]["GFLOP/s"] / rows["roofline"]["GFLOP/s"]
        rows[k]["roof t / t"] = rows["roofline"]["s/epoch"] / rows[k]["s/epoch"]
        if k in ("torch.nn", "sklearn"):
            rows[k]["baremlp/peer"] = rows["baremlp"]["s/epoch"] / rows[k]["s/epoch"]
            if "compiled" in times:
                rows[k]["compiled/peer"] = rows["compiled"]["s/epoch"] / rows[k]["s/epoch"]
    if "sklearn" in times:  # no trainer on torch.mm can beat this ratio to scikit-learn
        rows["sklearn"]["roofline/peer"] = rows["roofline"]["s/epoch"] / rows["sklearn"]["s/epoch"]
    return rows, times


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
    rows["torch.nn"]["baremlp/peer"] = rows["torch.nn"]["samples/s"] / rows["baremlp"]["samples/s"]
    return rows, times


def report(results):
    m = results["machine"]
    print(f"\n{results['date']}  {m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['threads']} threads, "
          f"device {results['device']}{' (' + m['gpu'] + ')' if 'gpu' in m else ''}, "
          f"median of {results['repeats']}, load average {m['load average'][0]:.2f}")
    for name, case in results["cases"].items():
        columns = list(dict.fromkeys(c for row in case["rows"].values() for c in row if c != "error"))
        print(f"\n{name}: {case['what']}\n  {'':<20}" + "".join(f"{c:>14}" for c in columns))
        for peer, row in case["rows"].items():
            cells = "".join(f"{row[c]:>14,.{1 if row[c] >= 100 else 3}f}" if c in row else " " * 14 for c in columns)
            print(f"  {peer:<20}{cells}{'  ' + row['error'] if 'error' in row else ''}")
    print("\ntargets (ratios of time, baremlp / peer; the roofline one of GFLOP/s)")
    for t in results["targets"]:
        shown = "n/a" if t["value"] is None else f"{t['value']:.3f}"
        print(f"  {t['target']:<56}{shown:>8}  {'met' if t['met'] else 'NOT met'}"
              f"{'  (noisy repeats: unreliable)' if t['noisy'] else ''}")
    rows = results["cases"].get("2", {}).get("rows", {})
    if "roofline/peer" in rows.get("sklearn", {}):
        print(f"\nbound: the bare torch.mm products of an epoch take {rows['sklearn']['roofline/peer']:.3f} x scikit-learn's "
              f"whole epoch; NumPy's BLAS (scikit-learn's) does the same products in "
              f"{rows['roofline numpy']['s/epoch'] / rows['roofline']['s/epoch']:.3f} x torch.mm's time")
    if results["noisy"]:
        print("\nnoisy: the slowest repeat took over 1.5 x the fastest for " + ", ".join(
            f"{k} ({v:.1f} x)" for k, v in results["noisy"].items()) + "; is the machine busy?"
              + (" (try --threads 1)" if results["machine"]["threads"] > 1 else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small cases, for a smoke check")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median reported)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads of every peer (default: cores)")
    ap.add_argument("--json", metavar="PATH", help="write every figure and the machine to this file")
    args = ap.parse_args()
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
        rows, times = fn(n, args.repeats, args.device, sync)
        results["cases"][name] = {"what": what, "rows": rows, "raw seconds": times}
    results["machine"] = machine()
    results["noisy"] = {f"{c} {k}": max(ts) / min(ts) for c, case in results["cases"].items()
                        for k, ts in case["raw seconds"].items() if max(ts) > 1.5 * min(ts)}
    results["targets"] = []
    for case, row, column, op, bound, wording in TARGETS:
        value = results["cases"][case]["rows"].get(row, {}).get(column)
        met = value is not None and (value <= bound if op == "<=" else value >= bound)
        other = column.split("/")[0] if column.endswith("/peer") else "roofline"
        noisy = any(f"{case} {k}" in results["noisy"] for k in (row, other))
        results["targets"].append({"target": wording, "value": value, "bound": bound, "met": met, "noisy": noisy})
    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
