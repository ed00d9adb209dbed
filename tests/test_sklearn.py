"""baremlp.sklearn: scikit-learn's own conformance checks on both estimators, the proof that they are
baremlp.train underneath, continuation (partial_fit, warm_start), the stopping rules, the estimators
in Pipeline, GridSearchCV, cross_val_score and pickle; and fits that go wrong: an interrupted or
failed fit never leaves the regressor in its standardized units, early stopping on too few samples
says so, advice is scikit-learn's, and warm_start refuses a changed dtype or shape."""
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402  (after the skip: scikit-learn is an optional extra)
from sklearn.datasets import load_iris, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from baremlp import MLP, UsageError, train  # noqa: E402
from baremlp.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from baremlp.train import Diverged, eager_epoch  # noqa: E402

# Short fits stop at max_iter on purpose here, and say so; the tests that care assert the warning.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def one_thread():
    """Tables this small train fastest on one thread, and on a busy machine several threads wait on
    each other for far longer than the work takes (docs/sklearn.md)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@parametrize_with_checks([MLPClassifier(), MLPRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    """scikit-learn's whole conformance suite, with no expected failure (docs/sklearn.md lists the skips)."""
    check(estimator)


def table(n=60, features=4, seed=0):
    """Inputs away from any special structure: (n, features) standard normal draws."""
    return np.random.default_rng(seed).standard_normal((n, features))


def settings(**extra):
    """Settings where the stopping rule cannot end training early: every run lasts max_iter epochs."""
    return dict(hidden_layer_sizes=(7, 5), learning_rate_init=0.05, batch_size=16, momentum=0.9, reg=1e-3,
                random_state=3, n_iter_no_change=50, **extra)


def test_classifier_is_baremlp_train_underneath():
    """The same network as MLP + train with the same settings and seed, parameter for parameter;
    coefs_ are the transposed W's; string labels map to indices in sorted order."""
    X = table()
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)  # classes 0, 1, 2
    labels = np.array(["ant", "bee", "cat"])[y]
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(12\)"):
        clf = MLPClassifier(max_iter=12, **settings()).fit(X, labels)
    net = MLP([4, 7, 5, 3], seed=3, dtype=torch.float64)
    history = train(net, torch.tensor(X), torch.tensor(y), loss="cross-entropy", lr=0.05, epochs=12, batch_size=16,
                    reg=1e-3, seed=3, momentum=0.9)
    assert clf.classes_.tolist() == ["ant", "bee", "cat"] and clf.n_outputs_ == 3 and clf.n_iter_ == 12
    assert clf.loss_curve_ == [r["loss"] for r in history]
    assert [c.shape for c in clf.coefs_] == [(4, 7), (7, 5), (5, 3)]
    for coef, intercept, W, b in zip(clf.coefs_, clf.intercepts_, net.weights, net.biases):
        assert np.array_equal(coef, W.detach().numpy().T) and np.array_equal(intercept, b.detach().numpy())
    assert np.array_equal(clf.predict_proba(X), net.predict_proba(torch.tensor(X)).detach().numpy())
    with torch.no_grad():
        assert np.array_equal(clf.predict(X), clf.classes_[net(torch.tensor(X)).argmax(1).numpy()])


def test_regressor_is_baremlp_train_on_standardized_targets_folded_back():
    """train() on z = (y − μ)/σ gives the hidden layers exactly; the output layer is then
    M ← diag(σ) M, c ← σ ⊙ c + μ, so that predict is the network's output in y's units."""
    X = table(80, 5)
    y = np.stack([10 * X[:, 0] + 50, -3 * X[:, 1] * X[:, 2]], axis=1)  # two targets of different scales
    with pytest.warns(ConvergenceWarning):
        reg = MLPRegressor(max_iter=10, **settings()).fit(X, y)
    mu, sd = y.mean(0), y.std(0)
    net = MLP([5, 7, 5, 2], seed=3, dtype=torch.float64)
    train(net, torch.tensor(X), torch.tensor((y - mu) / sd), loss="mse", lr=0.05, epochs=10, batch_size=16,
          reg=1e-3, seed=3, momentum=0.9)
    W, b = [w.detach().numpy() for w in net.weights], [c.detach().numpy() for c in net.biases]
    W[-1], b[-1] = W[-1] * sd[:, None], b[-1] * sd + mu
    for coef, intercept, w, c in zip(reg.coefs_, reg.intercepts_, W, b):
        assert np.array_equal(coef, w.T) and np.array_equal(intercept, c)
    with torch.no_grad():
        v = net(torch.tensor(X)).numpy() * sd + mu  # the unfolded network, its outputs rescaled
    np.testing.assert_allclose(reg.predict(X), v, rtol=1e-12, atol=1e-12)
    assert reg.predict(X).shape == (80, 2) and reg.n_outputs_ == 2


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_partial_fit_and_warm_start_go_on_where_training_stood(Estimator):
    """Five epochs in one fit = two epochs, then partial_fit three times = 2 + 3 with warm_start:
    the epoch count (hence each epoch's sample order) and the momentum buffers carry over."""
    X = table()
    y = (X[:, 0] > 0).astype(int) if Estimator is MLPClassifier else X @ [1.0, -2.0, 0.5, 3.0]
    whole = Estimator(max_iter=5, **settings()).fit(X, y)
    parts = Estimator(max_iter=2, **settings()).fit(X, y)
    for _ in range(3):
        parts.partial_fit(X, y)
    warm = Estimator(max_iter=2, warm_start=True, **settings()).fit(X, y)
    warm.set_params(max_iter=3).fit(X, y)
    extra = {"classes": [0, 1]} if Estimator is MLPClassifier else {}
    fresh = Estimator(**settings())
    for _ in range(5):
        fresh.partial_fit(X, y, **extra)
    for other in (parts, warm, fresh):
        assert other.n_iter_ == 5
        np.testing.assert_allclose(other.loss_curve_, whole.loss_curve_, rtol=1e-12)
        for a, b in zip(other.coefs_ + other.intercepts_, whole.coefs_ + whole.intercepts_):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)  # the regressor folds and unfolds its output layer


def no_improvement_stop(values, tol, patience):
    """scikit-learn's rule written out plainly: the epoch (1-based) at which it stops, or None."""
    best, count = -np.inf, 0
    for epoch, value in enumerate(values, 1):
        count = count + 1 if value < best + tol else 0
        best = max(best, value)
        if count > patience:
            return epoch
    return None


def test_training_loss_rule_stops_where_scikit_learn_would():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(random_state=0, tol=1e-2, n_iter_no_change=3).fit(StandardScaler().fit_transform(X), y)
    assert clf.n_iter_ < clf.max_iter and clf.best_loss_ == min(clf.loss_curve_)
    assert no_improvement_stop([-loss for loss in clf.loss_curve_], 1e-2, 3) == clf.n_iter_


def test_early_stopping_keeps_the_best_validation_epoch():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(random_state=1, early_stopping=True, validation_fraction=0.2, n_iter_no_change=5).fit(X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ < clf.max_iter and clf.best_validation_score_ == max(scores)
    assert no_improvement_stop(scores, clf.tol, 5) == clf.n_iter_
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.2, random_state=1, stratify=y)  # the held-out share
    assert clf.score(X_val, y_val) == clf.best_validation_score_  # the best epoch's weights were restored


def test_in_pipeline_grid_search_cross_validation_and_pickle():
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), random_state=0))
    assert cross_val_score(model, X, y, cv=3).mean() > 0.9
    search = GridSearchCV(model, {"mlpclassifier__learning_rate_init": [1e-4, 0.05]}, cv=3).fit(X, y)
    assert search.best_params_ == {"mlpclassifier__learning_rate_init": 0.05}  # 1e-4 barely moves in 200 epochs
    fitted = search.best_estimator_
    again = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(again.predict_proba(X), fitted.predict_proba(X))
    copy = clone(fitted[-1])
    assert copy.get_params() == fitted[-1].get_params() and not hasattr(copy, "net_")


def test_regressor_multi_output_and_single_output_shapes():
    X, y = make_regression(n_samples=200, n_features=6, n_targets=3, noise=1.0, random_state=0)
    reg = MLPRegressor(random_state=0).fit(X, y)
    assert reg.predict(X).shape == (200, 3) and reg.score(X, y) > 0.95
    assert MLPRegressor(random_state=0, max_iter=20).fit(X, y[:, 0]).predict(X).shape == (200,)


def test_bad_input_gets_scikit_learns_exceptions_and_one_line_messages():
    X = table()
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MLPClassifier().fit(bad, y)
    clf = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4 features"):
        clf.predict(X[:, :3])
    with pytest.raises(UsageError, match=r"^learning_rate_init -1 invalid: expected a finite number > 0$"):
        MLPClassifier(learning_rate_init=-1).fit(X, y)
    with pytest.raises(UsageError, match=r"^dtype 'float16' unknown: expected one of float32, float64$"):
        MLPRegressor(dtype="float16").fit(X, X[:, 0])
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        MLPClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"y holds labels \[7\] not among the classes \[0, 1\]"):
        clf.partial_fit(X, np.where(y == 1, 7, y))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, X[:, 0])


def test_float32_and_random_state():
    X, y = load_iris(return_X_y=True)
    a = MLPClassifier(dtype="float32", random_state=np.random.RandomState(0), max_iter=30).fit(X, y)
    assert a.net_.dtype == torch.float32 and a.predict_proba(X).dtype == np.float32
    b, c = (MLPClassifier(random_state=5, max_iter=30).fit(X, y) for _ in range(2))
    d = MLPClassifier(random_state=6, max_iter=30).fit(X, y)
    assert np.array_equal(b.coefs_[0], c.coefs_[0]) and not np.array_equal(b.coefs_[0], d.coefs_[0])


def test_verbose_prints_the_loss_of_every_epoch(capsys):
    MLPRegressor(max_iter=3, n_iter_no_change=5, random_state=0, verbose=True).fit(table(), table()[:, 0])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Iteration 1", "Iteration 2", "Iteration 3"]


def test_feature_names_from_a_data_frame():
    pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    assert clf.feature_names_in_.tolist() == list(X.columns)


# issue 22 on the estimators: an interrupted or failed fit never leaves the regressor in its standardized
# units (item 2); early stopping on too few samples says so (item 7); advice is scikit-learn's, not the
# CLI's, and warm_start refuses a changed dtype or shape (item 18); widths are checked first (item 1)

def around_5000(n=200, seed=0):
    """Targets around 5,000 with a spread of about 100: z-units (≈ 0 ± 1) are far from them."""
    X = np.random.default_rng(seed).standard_normal((n, 3))
    return X, 5000 + 100 * (X @ [1.0, -0.5, 0.25])


def interrupting(at_epoch, error):
    """An epoch function (baremlp.train's engine hook) that runs the eager loop and, in epoch at_epoch
    (1-based), raises error halfway through the epoch, after half its steps have updated the weights."""
    calls = []

    def epoch(net, x, y, order, step):
        calls.append(1)
        if len(calls) == at_epoch:
            eager_epoch(net, x, y, order[: len(order) // 2], step)
            raise error
        return eager_epoch(net, x, y, order, step)
    return epoch


def small(**extra):
    """A small network on batches of 20."""
    return dict(hidden_layer_sizes=(8,), random_state=0, batch_size=20, **extra)


def in_data_units(reg, X, y):
    """The regressor predicts in y's units: its mean within half a spread of y's, not z's 0."""
    p = reg.predict(X)
    assert abs(p.mean() - y.mean()) < 0.5 * y.std(), (p.mean(), y.mean())
    assert p.shape == y.shape and np.isfinite(p).all()
    return p


def test_ctrl_c_mid_fit_returns_a_usable_model_as_scikit_learn_does():
    X, y = around_5000()
    reg = MLPRegressor(max_iter=50, engine=interrupting(4, KeyboardInterrupt()), **small())
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        assert reg.fit(X, y) is reg
    assert reg.n_iter_ == 3 and len(reg.loss_curve_) == 3
    in_data_units(reg, X, y)
    assert reg.score(X, y) > 0.5


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("boom")], ids=["ctrl-c", "exception"])
def test_an_interrupted_warm_start_keeps_the_data_units(error):
    X, y = around_5000()
    reg = MLPRegressor(max_iter=30, warm_start=True, **small()).fit(X, y)
    before = reg.score(X, y)
    assert before > 0.9
    reg.set_params(engine=interrupting(2, error))
    if isinstance(error, KeyboardInterrupt):
        with pytest.warns(UserWarning, match="Training interrupted by user"):
            reg.fit(X, y)
    else:
        with pytest.raises(RuntimeError, match="boom"):
            reg.fit(X, y)
    in_data_units(reg, X, y)
    assert reg.score(X, y) > 0.9  # 1.5 more epochs of the same training: as good as before, give or take
    reg.set_params(engine="eager").fit(X, y)  # and it goes on from there, in the same units
    assert reg.score(X, y) > 0.9


def test_an_exception_in_a_first_fit_leaves_no_model_in_z_units():
    X, y = around_5000()
    reg = MLPRegressor(max_iter=30, engine=interrupting(3, RuntimeError("boom")), **small())
    with pytest.raises(RuntimeError, match="boom"):
        reg.fit(X, y)
    in_data_units(reg, X, y)


def test_early_stopping_refuses_a_validation_set_of_one_sample():
    X, y = around_5000(10)
    reg = MLPRegressor(early_stopping=True, hidden_layer_sizes=(8,), random_state=0)  # batches: "auto"
    with pytest.raises(ValueError, match=r"^The validation set is too small: validation_fraction 0.1 of 10 samples "
                                         r"holds 1, expected at least 2\. Increase 'validation_fraction' or the size "
                                         r"of your dataset\.$"):
        reg.fit(X, y)
    assert not hasattr(reg, "net_")  # refused before anything was built
    reg.set_params(validation_fraction=0.2).fit(X, y)  # 2 held out: it trains
    assert len(reg.validation_scores_) == reg.n_iter_
    with pytest.raises(ValueError, match="validation set is too small: validation_fraction 0.1 of 10 samples"):
        MLPClassifier(early_stopping=True).fit(X, (X[:, 0] > 0).astype(int))


def test_divergence_advice_names_standard_scaler_not_a_cli_flag():
    X, y = around_5000()
    with pytest.raises(Diverged) as caught:
        MLPRegressor(learning_rate_init=0.5, max_iter=20, **small()).fit(X * 1e6, y)
    message = str(caught.value)
    assert "--" not in message and "StandardScaler" in message and "learning_rate_init" in message, message
    assert "inputs up to" in message and "\n" not in message


@pytest.mark.parametrize("change, words", [({"dtype": "float32"}, "dtype 'float32' differs from the fitted network's "
                                            "'float64'"),
                                           ({"hidden_layer_sizes": (4,)}, r"hidden_layer_sizes \(4,\) differs from the "
                                            r"fitted network's \(8,\)")])
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_warm_start_refuses_a_changed_dtype_or_shape(change, words, how):
    X, y = around_5000()
    reg = MLPRegressor(max_iter=5, **small()).fit(X, y)
    before = reg.predict(X)
    reg.set_params(warm_start=True, **change)
    with pytest.raises(ValueError, match=words + ": warm_start and partial_fit go on with the network as it is"):
        reg.partial_fit(X, y) if how == "partial_fit" else reg.fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)  # nothing changed
    reg.set_params(warm_start=False).fit(X, y)  # a fresh fit takes the new setting
    assert reg.predict(X).dtype == (np.float32 if "dtype" in change else np.float64)


def test_predict_and_score_check_the_width_before_anything_item_1():
    """Issue 22, item 1 for the estimators: scikit-learn's n_features_in_ check runs first in both."""
    X, y = around_5000()
    reg = MLPRegressor(max_iter=3, **small()).fit(X, y)
    for call in (lambda: reg.predict(X[:, :2]), lambda: reg.score(X[:, :2], y), lambda: reg.score(np.c_[X, X], y)):
        with pytest.raises(ValueError, match=r"X has [26] features, but MLPRegressor is expecting 3 features"):
            call()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_on_cuda_the_same_fit_as_on_the_cpu():
    """The initial weights are drawn on the CPU and the sample order is the seed's, so a GPU fit in
    float64 differs from the CPU's only by rounding; a pickled GPU estimator predicts the same."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    cpu, gpu = (MLPClassifier(random_state=0, max_iter=20, device=d).fit(X, y) for d in ("cpu", "cuda"))
    assert gpu.net_.device.type == "cuda" and isinstance(gpu.coefs_[0], np.ndarray)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-7)
    assert np.array_equal(pickle.loads(pickle.dumps(gpu)).predict(X), gpu.predict(X))


def test_import_baremlp_does_not_import_scikit_learn():
    code = "import sys, baremlp; print('sklearn' in sys.modules, 'baremlp.sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
