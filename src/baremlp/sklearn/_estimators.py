"""baremlp's network as scikit-learn estimators: MLPClassifier and MLPRegressor, for Pipeline,
GridSearchCV and cross_val_score.  They train with baremlp.MLP and baremlp.train (minibatch SGD
with momentum on J = L + λ Σ‖W_i‖²_F), not with scikit-learn's MLP.

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from baremlp.sklearn import MLPClassifier
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), random_state=0))
    model.fit(X, y).score(X_test, y_test)

Parameters keep scikit-learn's names where the meaning is the same; `reg`, `init`, `engine`,
`device` and `dtype` are baremlp's own (docs/sklearn.md; the defaults are in BaseMLP.__init__).
Needs scikit-learn: pip install 'baremlp[sklearn]'.
"""
import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.multiclass import check_classification_targets

from ..evaluation import evaluate
from ._base import BaseMLP

__all__ = ["MLPClassifier", "MLPRegressor"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A classifier: softmax over one output per class, trained on the cross-entropy.

    Fitted: classes_ (the labels, sorted), n_outputs_ (= len(classes_)), n_features_in_,
    feature_names_in_ (a DataFrame's columns), n_iter_, loss_curve_, best_loss_, and with
    early_stopping validation_scores_ and best_validation_score_ (accuracy on the held-out share);
    coefs_ and intercepts_ in scikit-learn's orientation, net_ (the baremlp.MLP) and state_ (its TrainState).
    """

    loss = "cross-entropy"
    _y_checks = {}  # y must be one column (a column vector is accepted with a DataConversionWarning)

    def partial_fit(self, X, y, classes=None):
        """One epoch on X, y.  The first call needs every class: classes=np.unique(all labels)."""
        if not hasattr(self, "net_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit: all the labels y can take")
        return self._fit(X, y, incremental=True, classes=classes)

    def _targets(self, y, fresh, classes):
        """The labels as class indices 0 … K−1 into classes_ (set on a fresh start)."""
        check_classification_targets(y)
        if fresh:
            self.classes_ = np.unique(y if classes is None else classes)
            self.n_outputs_ = len(self.classes_)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {np.unique(classes).tolist()} differ from those of the first call "
                             f"{self.classes_.tolist()}: expected the same")
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y holds labels {unknown.tolist()} not among the classes {self.classes_.tolist()} "
                             "of the first fit: expected only those (or fit without warm_start)")
        return np.searchsorted(self.classes_, y)  # (N,)

    def _score(self, x, y):
        """The share of x's samples whose class is predicted right."""
        return evaluate(self.net_, x, y, self.loss)["accuracy"]

    def predict(self, X):
        """The most probable class of each row of X: (N,), labels from classes_."""
        v = self._forward(X)  # (N, K); first, so that an unfitted estimator says so
        return self.classes_[v.argmax(1)]

    def predict_proba(self, X):
        """p = softmax(v) for each row of X: (N, len(classes_)), columns in the order of classes_."""
        return self._forward(X, proba=True)


class MLPRegressor(RegressorMixin, BaseMLP):
    """A regressor: linear outputs trained on the squared error, one or several targets.

    It trains on standardized targets z = (y − μ) / σ (μ, σ per output, from the first fit's y), so
    that one learning rate suits targets of any scale, SGD's weak point:
        L = (1/N) Σ_n ‖v_n − z_n‖²   (summed over the outputs; loss_curve_ is in these units)
    and after each fit folds y = σ v + μ into the output layer (M ← diag(σ) M, c ← σ ⊙ c + μ), so
    that net_, coefs_ and intercepts_ compute y itself.  Fitted: n_outputs_, and the rest as for
    MLPClassifier (validation score: R², averaged over the outputs; unchanged by the scaling).
    predict returns (N,) when y had one column, else (N, n_outputs_).
    """

    loss = "mse"
    _y_checks = {"multi_output": True, "y_numeric": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # several targets at once, one output unit each
        return tags

    def partial_fit(self, X, y):
        """One epoch on X, y, continuing from the current weights (a new network on the first call)."""
        return self._fit(X, y, incremental=True)

    def _targets(self, y, fresh, classes):
        """z = (y − μ) / σ as (N, outputs) reals; μ and σ are set on a fresh start."""
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if fresh:
            self.n_outputs_ = y.shape[1]
            self._y_mean, std = y.mean(0), y.std(0)
            self._y_std = np.where(std > 0, std, 1.0)  # a constant target: nothing to scale
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} outputs but the first fit had {self.n_outputs_}: "
                             "expected the same (or fit without warm_start)")
        return (y - self._y_mean) / self._y_std

    def _rescale(self, to_y):
        """Folds y = σ v + μ into the output layer (to_y), or takes it out again to go on training."""
        M, c = self.net_.weights[-1], self.net_.biases[-1]  # (outputs, fan_in), (outputs,)
        mu, sd = (torch.tensor(a, dtype=M.dtype, device=M.device) for a in (self._y_mean, self._y_std))
        with torch.no_grad():
            if to_y:  # v = M h + c  ->  y = σ v + μ = (diag(σ) M) h + (σ ⊙ c + μ)
                M.mul_(sd[:, None])
                c.mul_(sd).add_(mu)
            else:
                M.div_(sd[:, None])
                c.sub_(mu).div_(sd)

    def _score(self, x, y):
        """R² of the predictions for x, averaged over the outputs (scikit-learn's score)."""
        with torch.inference_mode():
            return r2_score(y.cpu().numpy(), self.net_(x).cpu().numpy())

    def predict(self, X):
        """v = net(x): (N,) for one target, (N, n_outputs_) for several."""
        v = self._forward(X)
        return v.ravel() if self.n_outputs_ == 1 else v
