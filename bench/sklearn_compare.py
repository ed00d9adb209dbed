#!/usr/bin/env python
"""Side by side: baremlp's scikit-learn estimators against scikit-learn's own MLP, in one run.

    .venv/bin/python bench/sklearn_compare.py [--folds 5] [--repeats 3] [--threads 1] [--set NAME=VALUE ...]

For each of scikit-learn's bundled data sets (iris, wine, breast_cancer, digits: accuracy;
diabetes and a 3-target make_regression: R²), both libraries run the same k-fold cross-validation
(the same splits) of Pipeline(StandardScaler, MLP(hidden_layer_sizes=(100,), random_state=0)),
each with its own defaults otherwise.  One untimed fit of each before the clock (burn-in); then
--repeats rounds, the two libraries interleaved within each round and data set.  The table shows
the mean ± std of the folds' test scores (the same in every round: the fits are seeded) and of
the fit times of the round whose total-time ratio is the median; the ratio line gives the median
and its min–max over the rounds.  Targets (issue 14): on every data set baremlp's mean score is
not below scikit-learn's by more than scikit-learn's std; baremlp's total fit time ≤ 0.7 × scikit-learn's.

--threads (default 1) sets torch's threads and scikit-learn's BLAS threads alike: on tables this
small one thread is the faster setting for both, and the only steady one on a shared machine.
--set overrides a parameter of baremlp's estimators (e.g. --set learning_rate_init=0.02).
"""
import argparse
import ast
import os
import platform
import statistics
import warnings

import torch
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier as SkClassifier, MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from baremlp.sklearn import MLPClassifier, MLPRegressor

HIDDEN = (100,)  # scikit-learn's default, used by both


def data_sets():
    """name -> (X, y, is a classification): scikit-learn's bundled tables and one made multi-output regression."""
    sets = {name: (*getattr(datasets, f"load_{name}")(return_X_y=True), True)
            for name in ("iris", "wine", "breast_cancer", "digits")}
    sets["diabetes"] = (*datasets.load_diabetes(return_X_y=True), False)
    X, y = datasets.make_regression(n_samples=1000, n_features=20, n_informative=10, n_targets=3, noise=10.0,
                                    random_state=0)
    sets["make_regression (3 targets)"] = (X, y, False)
    return sets


def models(classify, overrides):
    """{library: pipeline}: the same scaler and hidden sizes, each library's MLP with its defaults."""
    ours, theirs = (MLPClassifier, SkClassifier) if classify else (MLPRegressor, SkRegressor)
    return {"baremlp": make_pipeline(StandardScaler(), ours(hidden_layer_sizes=HIDDEN, random_state=0, **overrides)),
            "sklearn": make_pipeline(StandardScaler(), theirs(hidden_layer_sizes=HIDDEN, random_state=0))}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3, help="rounds of the whole comparison, for the time ratio")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter of baremlp's estimators, e.g. learning_rate_init=0.02")
    args = p.parse_args()
    overrides = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)  # both libraries warn at max_iter; the scores tell
    print(f"{platform.platform()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"torch {torch.__version__} and scikit-learn's BLAS on {args.threads} thread(s)")
    print(f"{args.folds}-fold cross-validation, {args.repeats} rounds, hidden_layer_sizes={HIDDEN}"
          + (f", baremlp with {overrides}" if overrides else ""))
    sets = data_sets()
    X, y, _ = sets["iris"]
    for model in models(True, overrides).values():  # burn-in: torch's and NumPy's first calls
        model.fit(X, y)

    rounds = []  # per round: {(set, library): cross_validate's result}
    for _ in range(args.repeats):
        results = {}
        for name, (X, y, classify) in sets.items():
            split = (StratifiedKFold if classify else KFold)(args.folds, shuffle=True, random_state=0)
            for lib, model in models(classify, overrides).items():
                results[name, lib] = cross_validate(model, X, y, cv=split)
        rounds.append(results)
    total = lambda results, lib: sum(r["fit_time"].sum() for (_, l), r in results.items() if l == lib)
    ratios = [total(r, "baremlp") / total(r, "sklearn") for r in rounds]
    median = statistics.median(ratios)
    results = rounds[min(range(len(ratios)), key=lambda i: abs(ratios[i] - median))]  # the median round

    print("\n| data set | score | baremlp | scikit-learn | baremlp fit (s) | scikit-learn fit (s) | time ratio |")
    print("|---|---|---:|---:|---:|---:|---:|")
    met = True
    for name, (_, _, classify) in sets.items():
        ours, theirs = results[name, "baremlp"], results[name, "sklearn"]
        s, t = ours["test_score"], theirs["test_score"]
        ok = s.mean() >= t.mean() - t.std()
        met &= ok
        print(f"| {name} | {'accuracy' if classify else 'R²'} | {s.mean():.3f} ± {s.std():.3f} | "
              f"{t.mean():.3f} ± {t.std():.3f}{'' if ok else ' (!)'} | "
              f"{ours['fit_time'].mean():.3f} ± {ours['fit_time'].std():.3f} | "
              f"{theirs['fit_time'].mean():.3f} ± {theirs['fit_time'].std():.3f} | "
              f"{ours['fit_time'].sum() / theirs['fit_time'].sum():.2f} |")
    ours, theirs = total(results, "baremlp"), total(results, "sklearn")
    print(f"\ntotal fit time: baremlp {ours:.2f} s, scikit-learn {theirs:.2f} s; ratio baremlp / scikit-learn "
          f"{median:.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}, {len(ratios)} rounds)")
    print(f"target: every score within scikit-learn's std of its mean or above: {'met' if met else 'NOT met'}")
    print(f"target: total fit time <= 0.7 x scikit-learn's: {'met' if median <= 0.7 else 'NOT met'} ({median:.2f})")


if __name__ == "__main__":
    main()
