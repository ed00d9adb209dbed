"""What baremlp's two scikit-learn estimators share (baremlp.sklearn): their parameters, fit,
partial_fit and scikit-learn's stopping rule, around baremlp's own network and training loop.

    fit(X, y):  scikit-learn's input checks -> MLP([features, *hidden, outputs], seed)
                -> baremlp.train(net, x, y, ...), whose per-epoch callback applies the rule below
    the rule:   s_t = the validation score (early_stopping) or −J_t (the epoch's mean objective);
                epoch t brings no improvement when s_t < max_{τ<t} s_τ + tol; training stops after
                more than n_iter_no_change such epochs in a row (scikit-learn's rule as it states it)

Needs scikit-learn (pip install 'baremlp[sklearn]'); `import baremlp` never imports this module.
"""
import math
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from ..errors import UsageError, number
from ..model import MLP
from ..bookkeeping import Diverged, TrainState, likely_cause
from ..train import train

DTYPES = ("float32", "float64")
SCALE = "scale X with sklearn.preprocessing.StandardScaler, as in make_pipeline(StandardScaler(), {}(...))"


def check_validation_size(fraction, n):
    """Refuses early stopping whose held-out share would be under 2 samples (train_test_split holds out
    ceil(fraction · n)): no score could rank the epochs.  scikit-learn's words, with the numbers."""
    held = math.ceil(fraction * n)
    if held < 2:
        raise UsageError(f"The validation set is too small: validation_fraction {fraction:g} of {n} samples holds "
                         f"{held}, expected at least 2. Increase 'validation_fraction' or the size of your dataset.")


class BaseMLP(BaseEstimator):
    """The estimator around baremlp.MLP and baremlp.train; subclasses set the loss and the targets."""

    loss = None  # "cross-entropy" or "mse": the subclass's
    _y_checks = {}  # how validate_data checks y: the subclass's

    def __init__(self, hidden_layer_sizes=(100,), *, reg=0.0, batch_size="auto", learning_rate_init=0.05,
                 max_iter=200, momentum=0.9, shuffle=True, random_state=None, tol=1e-3, verbose=False,
                 warm_start=False, early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 init="normal", engine="eager", device="cpu", dtype="float64"):
        self.hidden_layer_sizes = hidden_layer_sizes  # scikit-learn's default: one hidden layer of 100
        self.reg = reg  # λ in J = L + λ Σ‖W_i‖²_F: none, as scikit-learn's alpha=1e-4 is nearly none
        self.batch_size = batch_size  # "auto": min(200, N), scikit-learn's
        self.learning_rate_init = learning_rate_init  # fast on standardized tables; 4x blows up on unscaled ones
        self.max_iter = max_iter  # epochs at most, scikit-learn's default
        self.momentum = momentum  # μ in v ← μ v + g, scikit-learn's default
        self.shuffle = shuffle  # a new sample order each epoch, drawn from random_state
        self.random_state = random_state  # None: a fresh seed per fit; an int: the seed of the weights and the order
        self.tol = tol  # the least improvement that counts: 10 x scikit-learn's, which waits out SGD's long tail
        self.verbose = verbose  # print the loss of every epoch
        self.warm_start = warm_start  # fit continues from the current weights instead of new ones
        self.early_stopping = early_stopping  # hold out validation_fraction and stop on its score
        self.validation_fraction = validation_fraction  # scikit-learn's default
        self.n_iter_no_change = n_iter_no_change  # epochs without improvement before stopping, scikit-learn's default
        self.init = init  # N(0, 0.1²) weights, baremlp.MLP's: small activations keep SGD stable on unscaled inputs too
        self.engine = engine  # "eager", "compiled" or "manual" (baremlp.train's engines)
        self.device = device  # the CPU unless asked: small tables run faster there than on a GPU
        self.dtype = dtype  # float64, as scikit-learn computes; float32 is faster, on a GPU above all

    def fit(self, X, y):
        """Trains for at most max_iter epochs: a new network, or the current one with warm_start."""
        return self._fit(X, y, incremental=False)

    def _fit(self, X, y, incremental, classes=None):
        """fit (incremental=False) or partial_fit (incremental=True: one epoch on X, y).  Whatever stops
        training (the rule, Ctrl-C, an exception), the network ends in the data's units (the regressor's
        fold), with early stopping's best weights; Ctrl-C returns the model, as scikit-learn's MLP does."""
        hidden = self._check_params()
        fresh = not hasattr(self, "net_") or not (incremental or self.warm_start)
        if not fresh:
            self._check_same_network(hidden)
        X, y = validate_data(self, X, y, reset=fresh, dtype=(np.float64, np.float32), **self._y_checks)
        stop_early = self.early_stopping and not incremental
        if stop_early:
            check_validation_size(self.validation_fraction, len(X))
        y = self._targets(y, fresh, classes)  # (N,) class indices or (N, outputs) reals
        if fresh:
            self._start([X.shape[1], *hidden, self.n_outputs_])  # a new network, whose outputs are z until the fold
        else:
            self._rescale(to_y=False)  # training goes on in the units it started in
        val, interrupted, self._stale = None, False, 0  # _stale: epochs in a row without improvement
        try:
            if stop_early:
                classify = self.loss == "cross-entropy"  # then every class keeps its share, as scikit-learn splits
                X, X_val, y, y_val = train_test_split(X, y, test_size=self.validation_fraction,
                                                      random_state=self.seed_, stratify=y if classify else None)
                val = self._tensor(X_val), self._tensor(y_val)
                if self.validation_scores_ is None:  # the first fit that stops on a validation score
                    self.validation_scores_, self._best = [], -math.inf
            x, y = self._tensor(X), self._tensor(y)
            train(self.net_, x, y, loss=self.loss, lr=self.learning_rate_init,
                  epochs=self.state_.epoch + (1 if incremental else self.max_iter),  # the epoch to end after
                  batch_size=min(200, len(X)) if self.batch_size == "auto" else self.batch_size, reg=self.reg,
                  seed=self.seed_, momentum=self.momentum, engine=self.engine, state=self.state_,
                  shuffle=self.shuffle, callback=lambda record, state: self._after_epoch(record, state, val))
        except KeyboardInterrupt:
            interrupted = True
            warnings.warn("Training interrupted by user.")  # scikit-learn's words; the model is kept as it stands
        except Diverged as e:  # the cure in a scikit-learn user's words, not the CLI's
            lr = self.learning_rate_init
            advice = {"cure": SCALE.format(type(self).__name__), "rate": "learning_rate_init", "init": "init"}
            raise Diverged(e.step, e.epoch, lr, likely_cause(x, y, e.step, lr, advice)
                           or f"try a smaller learning_rate_init than {lr:g}") from None
        finally:
            if val is not None and getattr(self, "_best_params", None) is not None:
                self.net_.load_state_dict(self._best_params)  # the best epoch's weights, as scikit-learn keeps them
            self._rescale(to_y=True)
        if not (incremental or interrupted) and self._stale <= self.n_iter_no_change:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning)
        return self

    def _check_same_network(self, hidden):
        """warm_start and partial_fit go on with net_ as it is, so a changed shape or dtype is refused
        rather than ignored (a fresh fit takes it)."""
        fitted = {"hidden_layer_sizes": tuple(self.net_.sizes[1:-1]), "dtype": str(self.net_.dtype).split(".")[-1]}
        for name, asked in (("hidden_layer_sizes", tuple(hidden)), ("dtype", self.dtype)):
            if asked != fitted[name]:
                raise UsageError(f"{name} {asked!r} differs from the fitted network's {fitted[name]!r}: warm_start "
                                 f"and partial_fit go on with the network as it is; set {name} back to "
                                 f"{fitted[name]!r}, or fit with warm_start=False for a new network")

    def _check_params(self):
        """Checks what baremlp.train and baremlp.MLP do not check under these names; returns the hidden sizes."""
        sizes = self.hidden_layer_sizes
        hidden = [sizes] if isinstance(sizes, numbers.Number) else list(sizes)  # scikit-learn takes 100 for (100,)
        for size in hidden:
            number("hidden_layer_sizes entry", size, low=1, whole=True)
        if self.batch_size != "auto":
            number("batch_size", self.batch_size, low=1, whole=True)
        number("learning_rate_init", self.learning_rate_init, low=0, low_open=True)
        number("max_iter", self.max_iter, low=1, whole=True)
        number("tol", self.tol, low=0)
        number("n_iter_no_change", self.n_iter_no_change, low=1, whole=True)
        number("validation_fraction", self.validation_fraction, low=0, high=1, low_open=True, high_open=True)
        if self.dtype not in DTYPES:
            raise UsageError(f"dtype {self.dtype!r} unknown: expected one of {', '.join(DTYPES)}")
        return hidden

    def _start(self, sizes):
        """A new network of these layer sizes, its seed, training state and record of the epochs."""
        rs = self.random_state
        self.seed_ = int(rs) if isinstance(rs, numbers.Integral) else int(check_random_state(rs).randint(2**31 - 1))
        self.net_ = MLP(sizes, seed=self.seed_, init=self.init, device=self.device, dtype=getattr(torch, self.dtype))
        self.state_ = TrainState()  # epochs done and momentum buffers: partial_fit and warm_start go on from them
        self.loss_curve_, self.best_loss_ = [], math.inf
        self.validation_scores_ = self.best_validation_score_ = None
        self._best, self._best_params = -math.inf, None  # the best s_t so far, and its weights (early stopping)

    def _rescale(self, to_y):
        """The regressor puts its target scaling in or out of the output layer; nothing to do here."""

    def _after_epoch(self, record, state, val):
        """After each epoch (baremlp.train's callback): record it and apply the rule; True stops."""
        self.loss_curve_.append(record["loss"])
        self.n_iter_, self.loss_ = state.epoch, record["loss"]  # current even if training stops by an exception
        if val is None:
            s = -record["loss"]
            self.best_loss_ = min(self.best_loss_, record["loss"])
        else:
            s = self._score(*val)
            self.validation_scores_.append(s)
        if self.verbose:
            print(f"Iteration {state.epoch}, loss = {record['loss']:.8f}" +
                  ("" if val is None else f", validation score = {s:.6f}"))
        self._stale = self._stale + 1 if s < self._best + self.tol else 0
        if s > self._best:
            self._best = s
            if val is not None:
                self.best_validation_score_, self._best_params = s, self.net_.state_dict()
        return self._stale > self.n_iter_no_change

    def _tensor(self, a):
        """A NumPy array as a tensor on the network's device: reals in its dtype, class indices as long."""
        dtype = self.net_.dtype if a.dtype.kind == "f" else torch.long
        return torch.tensor(a, dtype=dtype, device=self.net_.device)  # a copy: read-only inputs are fine

    def _forward(self, X, proba=False):
        """v = net(x) for new inputs after scikit-learn's checks (or softmax(v) with proba): (N, outputs)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        with torch.inference_mode():
            x = self._tensor(X)
            return (self.net_.predict_proba(x) if proba else self.net_(x)).cpu().numpy()

    @property
    def coefs_(self):
        """The weight matrices in scikit-learn's orientation: W_iᵀ, each (fan_in, fan_out)."""
        return [W.detach().cpu().numpy().T.copy() for W in self.net_.weights]

    @property
    def intercepts_(self):
        """The biases b_i, each (fan_out,)."""
        return [b.detach().cpu().numpy().copy() for b in self.net_.biases]
