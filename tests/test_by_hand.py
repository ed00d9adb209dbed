"""check.by_hand: the lab's hand-worked forward pass (docs/worked-examples.md cases 1 and 2), typed in right
and with each slip a pencil makes; the report names the first wrong value and the slip."""
import numpy as np
import pytest
import torch

from baremlp import check

# the worked network of docs/worked-examples.md
W = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
b = [0.0, 0.0, -0.5]
M = [[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]]
c = [0.0, 0.5]
X1, X2 = [1.0, 2.0], [-1.0, 1.0]  # case 1: every ReLU on; case 2: units 1 and 3 off


def test_the_worked_cases_pass():
    r = check.by_hand(X1, W, b, M, c, u=[1, 2, 2.5], h=[1, 2, 2.5], v=[3.5, 0])
    assert r.passed and r.first_wrong is None and "all 3 right" in str(r)
    r = check.by_hand(X2, W, b, M, c, u=[-1, 1, -0.5], h=[0, 1, 0], v=[0, 1.5])
    assert r and r.expected["v"].tolist() == [0.0, 1.5]


def test_tensors_arrays_and_rounding_to_two_decimals():
    x = torch.tensor([0.3, 0.4])
    r = check.by_hand(x, torch.tensor(W), np.array(b), M, c, u=[0.3, 0.4, 0.2], h=[0.3, 0.4, 0.2], v=[0.5, 0.7])
    assert r.passed  # 0.3, 0.4, 0.7 - 0.5 = 0.2, v = (0.5, 0.7): exact
    r = check.by_hand([1 / 3, 0], W, b, M, c, u=[0.33, 0, -0.17])  # -0.1667 written -0.17
    assert r.passed


@pytest.mark.parametrize("given, wrong, slip", [
    (dict(u=[-1, 1, 0], h=[0, 1, 0], v=[0, 1.5]), "u", "no-bias"),              # W x, without b
    (dict(u=[-1, 1, 0.5]), "u", "bias-subtracted"),                              # W x − b
    (dict(u=[1, -1, -0.5]), "u", "x-swapped"),                                   # W (x₂, x₁) + b
    (dict(u=[0, 1]), "u", "transposed-W"),                                       # two entries: W's columns as rows
    (dict(u=[-1, 1, -0.5], h=[0, 1, -0.5], v=[-0.5, 2]), "h", "relu-before-bias"),  # ReLU(W x) + b
    (dict(u=[-1, 1, -0.5], h=[-1, 1, -0.5]), "h", "no-relu"),
    (dict(h=[-1, 0, -0.5]), "h", "relu-backwards"),                              # min(u, 0)
    (dict(u=[-1, 1, -0.5], h=[0, 1, 0], v=[0, 1]), "v", "no-bias"),              # M h, without c
    (dict(v=[-1.5, 2]), "v", "v-from-u"),                                        # M u + c
    (dict(v=[0, 1.5, 0]), "v", "transposed-M"),
])
def test_each_slip_is_named(given, wrong, slip):
    r = check.by_hand(X2, W, b, M, c, **given)
    assert not r.passed and r.first_wrong == wrong and r.slip == slip, str(r)
    assert f"likely slip ({slip})" in str(r) and f"{wrong} = " in str(r)


def test_relu_on_output_shows_where_an_output_is_negative():
    # x = (2, 2): u = h = (2, 2, 3.5), v = M h + c = (5.5, -1); ReLU(v) = (5.5, 0)
    r = check.by_hand([2, 2], W, b, M, c, v=[5.5, 0])
    assert r.first_wrong == "v" and r.slip == "relu-on-output"


def test_the_first_wrong_value_is_named_and_what_follows_from_it_is_said():
    r = check.by_hand(X2, W, b, M, c, u=[-1, 1, 0], h=[0, 1, 0], v=[0, 1.5])
    assert r.first_wrong == "u"
    assert "your h and v follow from your u correctly" in str(r)


def test_an_arithmetic_slip_names_the_entry():
    r = check.by_hand(X1, W, b, M, c, u=[1, 2, 4])  # 3.5 would be W x − b
    assert r.first_wrong == "u" and r.slip is None
    assert "entry 3" in str(r) and "row 3 of W" in str(r)


def test_the_row_convention_is_taken_and_named():
    r = check.by_hand(X2, np.array(W).T, b, np.array(M).T, c, u=[-1, 1, -0.5], v=[0, 1.5])
    assert r.passed and r.convention == "row" and "row convention" in str(r)


def test_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match="give at least one"):
        check.by_hand(X1, W, b, M, c)
    with pytest.raises(ValueError, match="W must be"):
        check.by_hand(X1, [[1, 2, 3]], b, M, c, u=[0, 0, 0])
    assert check.by_hand(X1, W, b, M, c, u=[1, 2, 2.5]).to_dict()["passed"] is True
