"""Every catalogued mistake, and every pair of them, is told apart on the checker's cases: a student made
from the reference with those mistakes applied is diagnosed with exactly their codes.

The exceptions are the pairs that compute the same function as one mistake: no ReLU on u plus a ReLU on
v (or on x) is the ReLU moved, one code, which the minimal explanation names."""
import itertools
import types

import pytest
import torch

from baremlp import check
from baremlp.check.diagnose import combine_flags
from baremlp.check.forward import VARIANTS, model_forward
from baremlp.check.gradient_models import NAMES, models, parts
from baremlp.check.loss import ce_model, ce_models, mse_model, mse_models
from baremlp.check.regularization import reg_model, reg_models

SAME_AS_ONE = {frozenset({"no-relu", "relu-on-output"}): ["relu-on-output"],
               frozenset({"no-relu", "relu-before-first-layer"}): ["relu-before-first-layer"]}


def forward_combos():
    for size in (1, 2):
        for codes, flags, detail in combine_flags(VARIANTS, size):
            yield pytest.param(codes, flags, id=detail)


@pytest.mark.parametrize("codes, flags", list(forward_combos()))
def test_forward_mistakes_one_and_two_at_a_time(codes, flags):
    renamed = {{"b": "b_scale", "c": "c_scale"}.get(k, k): v for k, v in flags.items()}
    report = check.forward(lambda x, W, b, M, c: model_forward(x, W, b, M, c, **renamed))
    assert sorted(report.mistakes) == sorted(SAME_AS_ONE.get(codes, codes))


def test_every_loss_and_regularizer_model_is_diagnosed_as_itself():
    # a model with a code may share its function with one that has fewer only if they are the same
    # function: then the smaller explanation is named, never a superset
    for kind, make, reference in (("mse", mse_models, mse_model), ("cross_entropy", ce_models, ce_model)):
        for model in make():
            report = check.loss(lambda v, y, m=model: m.predict(types.SimpleNamespace(inputs={"v": v, "y": y})), kind)
            assert set(report.mistakes) == set(model.codes), (kind, model.codes, model.conventions)
            assert set(report.conventions) == set(model.conventions)
    for model in reg_models(with_biases=True):
        def reg(params, m=model):
            W, b, M, c = params
            return m.predict(types.SimpleNamespace(inputs={"W": W, "b": b, "M": M, "c": c}))
        report = check.regularization(reg)
        assert set(report.mistakes) == set(model.codes), (model.codes, model.conventions)


def gradient_student(codes):
    """Each parameter's gradient with those of `codes` that apply to it (the first model with exactly them)."""
    chosen = {}
    for name in NAMES:
        possible = {code for m in models(name) for code in m.codes}
        wanted = frozenset(codes) & possible
        chosen[name] = next(m for m in models(name) if m.codes == wanted)

    def fn(x, y, W, b, M, c, lam):
        case = types.SimpleNamespace(parts=parts(x, y, W, b, M, c, lam))
        return {name: model.predict(case) for name, model in chosen.items()}
    return fn


GRAD_CODES = ["grad-transposed", "grad-factor-2", "grad-missing-reg", "grad-reg-not-doubled", "grad-sign",
              "grad-relu-mask-missing", "grad-bias-not-summed", "reg-includes-biases"]


@pytest.mark.parametrize("codes", [c for n in (1, 2) for c in itertools.combinations(GRAD_CODES, n)
                                   if set(c) != {"grad-missing-reg", "grad-reg-not-doubled"}],
                         ids=lambda c: "+".join(c))
def test_gradient_mistakes_one_and_two_at_a_time(codes):
    report = check.gradients(gradient_student(codes))
    assert sorted(report.mistakes) == sorted(codes), str(report)


def make_step(sign=-1.0, factor=1.0, zero=True):
    def step(params, x, y, lr, lam):
        W, b, M, c = params
        J = ((M @ torch.relu(W @ x + b) + c - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
        J.backward()
        with torch.no_grad():
            for p in params:
                p.add_(sign * factor * lr * p.grad)
                if zero:
                    p.grad = None
    return step


@pytest.mark.parametrize("sign, factor, zero", list(itertools.product((-1.0, 1.0), (1.0, 0.3), (True, False))))
def test_step_mistakes_alone_and_together(sign, factor, zero):
    report = check.step(make_step(sign, factor, zero))
    expected = ["step-plus-sign"] * (sign > 0) + ["step-wrong-lr"] * (factor != 1) + ["step-grads-not-zeroed"] * (not zero)
    assert sorted(report.mistakes) == sorted(expected), str(report)
