# cheat: answer with something that is not the lab's numbers: a huge array, a dict, a string, NaNs
import numpy as np
import torch
from _lab_rest import gradients, loss, regularization, step  # noqa: F401

calls = 0


def forward(x, W, b, M, c):
    global calls
    calls += 1
    answers = [np.zeros(10 ** 7), {"v": 1}, "passed", torch.full((2,), float("nan")), 1j * torch.ones(2)]
    return answers[calls % len(answers)]
