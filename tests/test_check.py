"""baremlp.check: its cases are the worked examples' numbers and the library's own answers; its reports
name mistakes only when they explain every case, and say what is off otherwise."""
import json
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from baremlp import check, ops
from baremlp.backprop import gradients as manual_gradients
from baremlp.check import cases as C
from baremlp.check.forward import model_forward
from baremlp.check.gradient_models import autograd
from baremlp.check.loss import ce_model, mse_model
from baremlp.check.regularization import reg_model
from baremlp.check.command import command
from baremlp.errors import UsageError
from baremlp.model import MLP

f64 = torch.float64


def rows_forward(x, W, b, M, c):
    return torch.relu(x @ W.T + b) @ M.T + c


def test_cases_hold_the_worked_examples_numbers():
    singles, batches = C.forward_cases()
    assert [model_forward(**i).tolist() for _, i in singles[:2]] == [[3.5, 0.0], [0.0, 1.5]]
    assert model_forward(**batches[0][1]).tolist() == [[3.5, 0.0], [0.0, 1.5], [2.5, 0.0]]
    mse_single, mse_batch = C.mse_cases()
    assert mse_model(**mse_single[0][1]).item() == 31.25
    assert mse_model(**mse_batch[0][1]).item() == pytest.approx(44.75 / 3, abs=1e-12)
    assert ce_model(**C.ce_cases()[0][0][1]).item() == pytest.approx(0.201413, abs=1e-6)
    assert reg_model(**C.reg_cases()[0][1]).item() == 8.0
    g = autograd(**C.gradient_cases()[0][0][1])  # case 6: λ = 0
    assert g["W"].tolist() == [[11.0, 22.0], [-2.0, -4.0], [13.0, 26.0]] and g["b"].tolist() == [11.0, -2.0, 13.0]
    assert g["M"].tolist() == [[11.0, 22.0, 27.5], [-2.0, -4.0, -5.0]] and g["c"].tolist() == [11.0, -2.0]


def test_references_agree_with_the_library_and_torch_nn_functional():
    for _, i in sum(C.forward_cases(), []):
        net = MLP([2, 3, 2], dtype=f64)
        net.load_state_dict({"W0": i["W"], "b0": i["b"], "W1": i["M"], "b1": i["c"]})
        torch.testing.assert_close(model_forward(**i), net(i["x"].reshape(-1, 2)).reshape(model_forward(**i).shape))
        for _, g in sum(C.gradient_cases(), []):
            net.load_state_dict({"W0": g["W"], "b0": g["b"], "W1": g["M"], "b1": g["c"]})
            _, manual = manual_gradients(net, g["x"].reshape(-1, 2), g["y"].reshape(-1, 2), reg=g["lam"])
            for mine, theirs in zip(autograd(**g).values(), manual):
                torch.testing.assert_close(mine, theirs)
        break
    for _, i in C.mse_cases()[1]:
        torch.testing.assert_close(mse_model(**i), ops.MSELoss()(i["v"], i["y"]))
    for _, i in C.ce_cases()[1]:
        torch.testing.assert_close(ce_model(**i), F.cross_entropy(i["v"], i["y"]))


def test_random_cases_stay_off_the_relu_kink():
    for _, i in sum(C.forward_cases(), []) + sum(C.gradient_cases(), []):
        u = i["x"] @ i["W"].T + i["b"]
        if not (i["W"] == C.worked_network()["W"]).all():
            assert u.abs().min() >= C.MARGIN


def test_report_text_html_and_json():
    report = check.forward(lambda x, W, b, M, c: torch.relu(x @ W.T) @ M.T + c)
    assert not report and report.mistakes == ["no-bias"] and report.conventions == []
    text = str(report)
    assert "no-bias" in text and "right: u = W @ x + b" in text and "expected [3.5, 0]" in text
    assert "b is missing" in text
    html = report._repr_html_()
    assert "<table>" in html and "no-bias" in html and html.count("<tr>") == len(report.cases) + 1
    d = json.loads(json.dumps(report.to_dict()))
    assert d["mistakes"] == ["no-bias"] and len(d["cases"]) == len(report.cases)
    case = report.cases[0]
    assert set(case.inputs) == {"x", "W", "b", "M", "c"} and case.expected.tolist() == [3.5, 0.0]
    assert case.got.tolist() == [4.0, -0.5] and not case.ok


def test_a_right_function_passes_with_no_mistakes():
    report = check.forward(rows_forward)
    assert report.passed and report.mistakes == [] and all(c.ok for c in report.cases)
    assert str(report).startswith("check.forward: passed on 7 cases")


def test_no_code_is_guessed_when_none_explains_the_output():
    report = check.forward(lambda x, W, b, M, c: 3 * rows_forward(x, W, b, M, c))
    assert not report.passed and report.mistakes == []
    assert any("3 × the expected" in d for d in report.differences)
    assert "no catalogued mistake explains them" in str(report)
    report = check.loss(lambda v, y: ((v - y) ** 2).sum() / 7)
    assert report.mistakes == [] and any("off by" in d for d in report.differences)


def test_a_function_that_raises_is_reported_in_one_line_with_its_line():
    def forward(x, W, b, M, c):
        return M @ torch.relu(W @ x + b) + d  # noqa: F821

    report = check.forward(forward)
    assert not report.passed and report.mistakes == []
    assert "NameError" in report.error and "return M @ torch.relu(W @ x + b) + d" in report.error


def test_float32_code_and_numpy_code_are_met():
    def float32_forward(x, W, b, M, c):
        x = torch.eye(2) @ x  # a float32 constant: fails on float64 inputs, runs on float32 ones
        return M @ torch.relu(W @ x + b.reshape(-1, 1)) + c.reshape(-1, 1)

    report = check.forward(float32_forward)
    assert report.passed and report.conventions == ["batch-as-columns"], str(report)

    def numpy_loss(v, y):
        return float(np.mean(np.sum((np.asarray(v) - np.asarray(y)) ** 2, axis=-1)))

    assert check.loss(numpy_loss).passed


def test_a_batch_loss_on_one_vector_sample_is_given_a_row():
    report = check.loss(lambda v, y: ((v - y) ** 2).sum() / len(v))
    assert report.passed and "one sample was taken as a batch of one row (1, K)" in report.notes


def test_cross_entropy_kind_and_bad_kind():
    assert check.loss(lambda v, y: F.cross_entropy(torch.atleast_2d(v), y.reshape(-1)), "cross-entropy").passed
    with pytest.raises(UsageError, match="kind 'hinge' unknown"):
        check.loss(lambda v, y: 0, "hinge")


def test_gradients_conventions_accept_the_losss_factors():
    def half(x, y, W, b, M, c, lam):
        g = autograd(x, y, W, b, M, c, lam)
        data = autograd(x, y, W, b, M, c, 0.0)
        return {"W": data["W"] / 2 + 2 * lam * W, "b": data["b"] / 2, "M": data["M"] / 2 + 2 * lam * M,
                "c": g["c"] / 2}

    assert check.gradients(half).mistakes == ["grad-factor-2"]
    assert check.gradients(half, conventions=["half-mse"]).passed


def test_step_that_updates_only_the_weights_names_the_biases_unchanged():
    def step(params, x, y, lr, lam):
        W, b, M, c = params
        J = ((M @ torch.relu(W @ x + b) + c - y) ** 2).sum() + lam * ((W ** 2).sum() + (M ** 2).sum())
        J.backward()
        with torch.no_grad():
            for p in (W, M):
                p -= lr * p.grad
        for p in params:
            p.grad = None

    report = check.step(step)
    assert not report.passed and report.mistakes == ["step-no-update"], str(report)  # b, c never move
    assert report.cases[0].ok is False and "step-no-update: b, c never change" in report.notes


def test_all_takes_a_dict_a_namespace_or_a_module_and_ignores_non_functions():
    ns = {"forward": rows_forward, "loss": 0.25, "step": "not a function"}
    report = check.all(ns)
    assert [p.check for p in report.parts] == ["forward"] and report.passed
    assert check.all(types.SimpleNamespace(forward=rows_forward)).passed
    module = types.ModuleType("student")
    module.regularization = lambda W, M: (W ** 2).sum()
    assert check.all(module).mistakes == ["reg-only-first-layer"]
    with pytest.raises(UsageError, match="found none of forward"):
        check.all({"x": 1})


def test_command_prints_text_or_json_and_returns_the_status(tmp_path):
    good = tmp_path / "good.py"
    good.write_text("import torch\nprint('training...')\n"
                    "def forward(x, W, b, M, c):\n    return torch.relu(x @ W.T + b) @ M.T + c\n")
    bad = tmp_path / "bad.py"
    bad.write_text("def loss(v, y):\n    return ((v - y) ** 2).sum()\n")
    lines = []
    assert command(good, print=lines.append) == 1  # forward passes, but the other four are missing
    text = "\n".join(lines)
    assert "forward: passed  [2/2]" in text and "loss: missing: not defined  [0/1]" in text
    assert "training..." not in text and "score 4/11: failed" in text  # 2 for forward, 1 for each rule kept
    lines = []
    assert command(bad, as_json=True, print=lines.append) == 1
    d = json.loads(lines[0])
    assert d["passed"] is False and d["mistakes"] == ["mse-sum-not-mean"] and d["file"] == str(bad)
    assert d["functions"]["loss"] == {"status": "failed", "detail": "", "mistakes": ["mse-sum-not-mean"],
                                      "conventions": [], "score": 0, "max_score": 1}
    assert d["checks"]["loss"]["cases"][0]["expected"] == 31.25


def test_command_usage_errors_and_a_file_that_raises(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        command(tmp_path / "missing.py", print=lambda s: None)
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(UsageError, match="defines none of forward"):
        command(empty, print=lambda s: None)
    broken = tmp_path / "broken.py"  # a top-level statement that raises: recorded, and the file goes on
    broken.write_text("import torch\n\nW = torch.zeros(3, 2) @ torch.zeros(3, 2)\n"
                      "def forward(x, W, b, M, c):\n    return torch.relu(x @ W.T + b) @ M.T + c\n")
    lines = []
    assert command(broken, print=lines.append) == 1
    assert "raised: line 3: RuntimeError: mat1 and mat2 shapes cannot be multiplied" in lines[0]
    assert "forward: passed" in lines[0]


def test_docs_list_every_code_with_its_wrong_and_right_line_and_show_a_real_report():
    from pathlib import Path

    from baremlp.check.catalogue import MISTAKES
    docs = (Path(__file__).resolve().parents[1] / "docs" / "check.md").read_text()
    for code, (_, _, wrong, right) in MISTAKES.items():
        assert f"**`{code}`**" in docs and wrong in docs and right in docs, code
    assert f"\n{len(MISTAKES)} codes;" in docs

    def forward(x, W, b, M, c):
        u = x @ W.T
        return torch.relu(u) @ M.T + c

    assert str(check.forward(forward)) in docs


def test_a_function_that_changes_its_inputs_in_place_does_not_change_the_next_case():
    def forward(x, W, b, M, c):
        b += 1.0  # a student's in-place slip: the checker's own cases must survive it
        return torch.relu(x @ W.T + b - 1.0) @ M.T + c

    assert check.forward(forward).passed
    assert C.forward_cases()[0][0][1]["b"].tolist() == [0.0, 0.0, -0.5]


def test_a_loss_written_for_exactly_two_outputs_is_judged_on_two():
    def loss(v, y):
        v, y = torch.atleast_2d(v), torch.atleast_2d(y)
        return ((v[:, 0] - y[:, 0]) ** 2 + (v[:, 1] - y[:, 1]) ** 2).mean()

    report = check.loss(loss)
    assert report.passed and any("2 outputs only" in n for n in report.notes)
    assert [c.got is None for c in report.cases] == [False] * 4 + [True]

    def summed(v, y):
        return sum(((v[..., k] - y[..., k]) ** 2).sum() for k in range(2))

    assert check.loss(summed).mistakes == ["mse-sum-not-mean"]


def test_gradients_written_for_batches_only_get_one_sample_as_a_row():
    def gradients(x, y, W, b, M, c, lam):
        U = torch.mm(x, W.T) + b  # 2-D only
        H = torch.relu(U)
        dV = 2 * (torch.mm(H, M.T) + c - y) / x.shape[0]
        dU = torch.mm(dV, M) * (U > 0)
        return {"W": dU.T @ x + 2 * lam * W, "b": dU.sum(0), "M": dV.T @ H + 2 * lam * M, "c": dV.sum(0)}

    report = check.gradients(gradients)
    assert report.passed and "one sample was given as a batch of one row, x (1, 2)" in report.notes


def test_what_comes_back_is_named_when_it_is_not_an_answer():
    assert check.forward(lambda x, W, b, M, c: None).error == \
        "returned NoneType, expected a tensor, an array or a number on worked case 1"
    assert "returned a tuple of 2 values" in check.forward(lambda x, W, b, M, c: (rows_forward(x, W, b, M, c), x)).error
    report = check.gradients(lambda x, y, W, b, M, c, lam: {"W": W, "M": M})
    assert report.error.startswith("returned no gradient for b, c (found: W, M)")
