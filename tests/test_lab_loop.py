"""train.py reads as the lab's loop: the eager epoch first, its four phases labelled, and the same
numbers as the lab's own loop written out by hand (p.data -= lr * p.grad; p.grad.zero_())."""
import ast
import importlib
import inspect

import torch

from baremlp import MLP, datasets, ops, train
from baremlp.runs.runner import train_kwargs
from baremlp.runs.settings import Settings

train_module = importlib.import_module("baremlp.train")  # the module: the package's `train` is the function


def test_the_eager_epoch_and_train_come_first_with_the_four_phases_labelled():
    source = inspect.getsource(train_module)
    tree = ast.parse(source)
    functions = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    assert functions[:2] == ["eager_epoch", "train"]
    assert len(source.splitlines()) < 200
    loop = inspect.getsource(train_module.eager_epoch)
    phases = [loop.index(f"# {phase}") for phase in ("forward", "backward", "update", "zero the gradients")]
    assert phases == sorted(phases)
    assert "J.backward()" in loop and "p.grad = None" in loop and "p.grad.zero_()" in loop  # the lab's words, said


def test_the_eager_engine_takes_the_steps_of_the_labs_loop_written_by_hand():
    x, y = datasets.linear(40, seed=3)
    net, by_hand = MLP([2, 3, 2], seed=3, dtype=torch.float64), MLP([2, 3, 2], seed=3, dtype=torch.float64)
    train(net, x, y, lr=0.05, epochs=2, reg=0.01, seed=3)
    x, y = x.double(), y.double()
    for epoch in range(2):
        for i in train_module.epoch_order(len(x), 3, epoch).tolist():
            J = ops.MSELoss()(by_hand(x[i:i + 1]), y[i:i + 1]) + 0.01 * sum((W ** 2).sum() for W in by_hand.weights)
            J.backward()
            for p in by_hand.parameters:
                p.data -= 0.05 * p.grad
                p.grad.zero_()
    for ours, theirs in zip(net.parameters, by_hand.parameters):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)


def test_settings_become_trains_arguments_in_one_place():
    data = type("Data", (), {"x_val": None, "y_val": None})()
    s = Settings(lr=0.3, epochs=7, batch_size=4, reg=0.02, reg_epochs=None, seed=5, momentum=0.5, schedule="cosine",
                 check_steps=True)
    kwargs = train_kwargs(s, data)
    assert set(kwargs) <= set(inspect.signature(train).parameters)
    assert kwargs == dict(lr=0.3, epochs=7, batch_size=4, reg=0.02, reg_epochs=None, seed=5, momentum=0.5,
                          schedule="cosine", patience=0, check_steps=True, val=None)
