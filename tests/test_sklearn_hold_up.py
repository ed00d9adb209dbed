"""Issue 22 on the estimators: an interrupted or failed fit never leaves the regressor in its
standardized units (item 2); early stopping on too few samples says so (item 7); advice is
scikit-learn's, not the CLI's, and warm_start refuses a changed dtype or shape (item 18)."""
import numpy as np
import pytest

pytest.importorskip("sklearn")

from baremlp.train import Diverged, eager_epoch  # noqa: E402
from baremlp.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(n=200, seed=0):
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


def settings(**extra):
    return dict(hidden_layer_sizes=(8,), random_state=0, batch_size=20, **extra)


def in_data_units(reg, X, y):
    """The regressor predicts in y's units: its mean within half a spread of y's, not z's 0."""
    p = reg.predict(X)
    assert abs(p.mean() - y.mean()) < 0.5 * y.std(), (p.mean(), y.mean())
    assert p.shape == y.shape and np.isfinite(p).all()
    return p


def test_ctrl_c_mid_fit_returns_a_usable_model_as_scikit_learn_does():
    X, y = data()
    reg = MLPRegressor(max_iter=50, engine=interrupting(4, KeyboardInterrupt()), **settings())
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        assert reg.fit(X, y) is reg
    assert reg.n_iter_ == 3 and len(reg.loss_curve_) == 3
    in_data_units(reg, X, y)
    assert reg.score(X, y) > 0.5


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("boom")], ids=["ctrl-c", "exception"])
def test_an_interrupted_warm_start_keeps_the_data_units(error):
    X, y = data()
    reg = MLPRegressor(max_iter=30, warm_start=True, **settings()).fit(X, y)
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
    X, y = data()
    reg = MLPRegressor(max_iter=30, engine=interrupting(3, RuntimeError("boom")), **settings())
    with pytest.raises(RuntimeError, match="boom"):
        reg.fit(X, y)
    in_data_units(reg, X, y)


def test_early_stopping_refuses_a_validation_set_of_one_sample():
    X, y = data(10)
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
    X, y = data()
    with pytest.raises(Diverged) as caught:
        MLPRegressor(learning_rate_init=0.5, max_iter=20, **settings()).fit(X * 1e6, y)
    message = str(caught.value)
    assert "--" not in message and "StandardScaler" in message and "learning_rate_init" in message, message
    assert "inputs up to" in message and "\n" not in message


@pytest.mark.parametrize("change, words", [({"dtype": "float32"}, "dtype 'float32' differs from the fitted network's "
                                            "'float64'"),
                                           ({"hidden_layer_sizes": (4,)}, r"hidden_layer_sizes \(4,\) differs from the "
                                            r"fitted network's \(8,\)")])
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_warm_start_refuses_a_changed_dtype_or_shape(change, words, how):
    X, y = data()
    reg = MLPRegressor(max_iter=5, **settings()).fit(X, y)
    before = reg.predict(X)
    reg.set_params(warm_start=True, **change)
    with pytest.raises(ValueError, match=words + ": warm_start and partial_fit go on with the network as it is"):
        reg.partial_fit(X, y) if how == "partial_fit" else reg.fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)  # nothing changed
    reg.set_params(warm_start=False).fit(X, y)  # a fresh fit takes the new setting
    assert reg.predict(X).dtype == (np.float32 if "dtype" in change else np.float64)


def test_predict_and_score_check_the_width_before_anything_item_1():
    """Issue 22, item 1 for the estimators: scikit-learn's n_features_in_ check runs first in both."""
    X, y = data()
    reg = MLPRegressor(max_iter=3, **settings()).fit(X, y)
    for call in (lambda: reg.predict(X[:, :2]), lambda: reg.score(X[:, :2], y), lambda: reg.score(np.c_[X, X], y)):
        with pytest.raises(ValueError, match=r"X has [26] features, but MLPRegressor is expecting 3 features"):
            call()
