"""The lab's rule, for a notebook's namespace: the network is written without torch.nn and torch.optim.

torch_nn_used(globals()) lists what breaks it, one item a name: a module of torch.nn or torch.optim
bound to a name (`import torch.nn.functional as F`), a class or function taken from them (`from torch.nn
import Linear`), an object made by them (an nn.Module, an optimizer), and a function of the notebook
whose code reaches them by attribute (`torch.nn.functional.relu(u)`, `torch.optim.SGD(...)`).
It reads the objects, not the source, so it works where the notebook ran: in Jupyter, under
`otter run` or nbgrader's autograde.  (`baremlp check` judges a .py file's source by its own rule.)
"""
import types

FORBIDDEN = ("torch.nn", "torch.optim")
ATTRIBUTES = {"nn", "optim"}  # torch.nn..., torch.optim... in a function's code


def forbidden(module_name):
    return any(module_name == f or module_name.startswith(f + ".") for f in FORBIDDEN)


def code_names(code):
    """Every name and attribute a code object (and the functions, lambdas and classes inside it) uses."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= code_names(const)
    return names


def torch_nn_used(namespace):
    """['F (the module torch.nn.functional)', "forward uses torch.nn (its code reads .nn)", ...]; [] when clean."""
    found = []
    for name, value in list(namespace.items()):
        if name.startswith("_"):
            continue
        if isinstance(value, types.ModuleType):
            if forbidden(value.__name__):
                found.append(f"{name} (the module {value.__name__})")
            continue
        module = getattr(value, "__module__", None) or ""
        if isinstance(value, type) or callable(value) and not isinstance(value, types.FunctionType):
            if isinstance(module, str) and forbidden(module):
                found.append(f"{name} ({module}.{getattr(value, '__name__', type(value).__name__)})")
                continue
        kind = type(value).__module__ or ""
        if forbidden(kind):
            found.append(f"{name} (a {kind}.{type(value).__name__})")
            continue
        if isinstance(value, types.FunctionType) and not module.startswith(("baremlp", "torch")):
            used = sorted(code_names(value.__code__) & ATTRIBUTES)
            if used:
                found.append(f"{name} uses torch.{'/'.join(used)} (its code reads .{', .'.join(used)})")
    return found
