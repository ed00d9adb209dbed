"""The hand-computed cases of docs/worked-examples.md, number for number."""
import math

import pytest
import torch

from baremlp import ops

R = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)


@pytest.fixture
def net(worked_net):  # worked_net (conftest.py): the page's W, b, M, c
    return worked_net


def rows(*xs):
    return torch.tensor(xs, dtype=torch.float64)


def test_case1_every_relu_active(net):
    x = rows([1, 2])
    assert net.hidden(x)[0].tolist() == [[1, 2, 2.5]]
    assert net(x).tolist() == [[3.5, 0]]
    MW, Mb_c = net.weights[1] @ net.weights[0], net.weights[1] @ net.biases[0] + net.biases[1]
    assert MW.tolist() == [[2, 1], [-1, 0]]
    assert Mb_c.tolist() == [-0.5, 1]
    assert (x @ MW.T + Mb_c).tolist() == [[3.5, 0]]  # affine while every ReLU is on


def test_case2_relu_cut_off(net):
    x = rows([-1, 1])
    assert net.hidden(x)[0].tolist() == [[-1, 1, -0.5]]
    assert net(x).tolist() == [[0, 1.5]]
    MW, Mb_c = net.weights[1] @ net.weights[0], net.weights[1] @ net.biases[0] + net.biases[1]
    assert (x @ MW.T + Mb_c).tolist() == [[-1.5, 2]]  # not v: the shortcut fails once a ReLU is off


def test_case3_batch_of_three(net):
    X = rows([1, 2], [-1, 1], [2, -1])
    assert net.hidden(X)[0].tolist() == [[1, 2, 2.5], [-1, 1, -0.5], [2, -1, 0.5]]
    assert net(X).tolist() == [[3.5, 0], [0, 1.5], [2.5, 0]]


def test_case4_loss_and_objective(net):
    x = rows([1, 2])
    y = x @ R.T
    assert y.tolist() == [[-2, 1]]
    v = net(x)
    assert ops.MSELoss()(v, y).item() == 31.25
    assert ops.FrobeniusSquared()(net.weights[0]).item() == 4
    assert ops.FrobeniusSquared()(net.weights[1]).item() == 4
    assert ops.objective(ops.MSELoss(), v, y, net.weights, 0.1).item() == pytest.approx(32.05, abs=1e-12)
    X = rows([1, 2], [-1, 1], [2, -1])
    assert ops.MSELoss()(net(X), X @ R.T).item() == pytest.approx(44.75 / 3, abs=1e-12)


def test_case5_softmax_and_cross_entropy(net):
    v = net(rows([-1, 1]))
    p = ops.Softmax()(v)
    assert p[0].tolist() == pytest.approx([1 / (1 + math.exp(1.5)), math.exp(1.5) / (1 + math.exp(1.5))], abs=1e-12)
    assert p[0].tolist() == pytest.approx([0.182426, 0.817574], abs=1e-6)
    L = ops.CrossEntropyLoss()(v, torch.tensor([1]))
    assert L.item() == pytest.approx(0.201413, abs=1e-6)
    assert L.item() == pytest.approx(math.log(1 + math.exp(1.5)) - 1.5, abs=1e-12)


def test_case6_backward_by_hand(net):
    x = rows([1, 2])
    J = ops.MSELoss()(net(x), x @ R.T)
    J.backward()
    Wg, Mg = net.weights[0].grad, net.weights[1].grad
    bg, cg = net.biases[0].grad, net.biases[1].grad
    assert cg.tolist() == [11, -2]
    assert Mg.tolist() == [[11, 22, 27.5], [-2, -4, -5]]
    assert bg.tolist() == [11, -2, 13]
    assert Wg.tolist() == [[11, 22], [-2, -4], [13, 26]]
    from baremlp.sgd import sgd_step
    sgd_step(net.parameters, lr=0.01)
    assert net.biases[1].tolist() == pytest.approx([-0.11, 0.52], abs=1e-15)
    assert all(p.grad is None for p in net.parameters)
