"""Checkpoints, written atomically (files.write_atomic) so that a crash never leaves half a file.

A checkpoint is one safetensors file: the tensors (W0, b0, W1, ..., momentum buffers V0, ...)
and, in its JSON header, the network's sizes, the run's settings and where training stood.
Loading parses that header and raw tensor bytes only: no pickle, so no code ever runs from a file.
"""
import json
import os
import re

from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ..errors import UsageError
from ..model import MLP
from .files import write_atomic


def save(path, net, meta, velocity=None, extra=None):
    """Saves net's parameters, momentum buffers (V0, V1, ...) and extra named tensors (such as the
    standardisation mean and std) with meta (a JSON-able dict) in the header."""
    tensors = {k: v.contiguous().cpu() for k, v in net.state_dict().items()}
    for i, v in enumerate(velocity or []):
        tensors[f"V{i}"] = v.detach().contiguous().cpu()
    for name, t in (extra or {}).items():
        tensors[name] = t.detach().contiguous().cpu()
    header = {"baremlp": json.dumps({"sizes": net.sizes, **meta})}
    write_atomic(path, st_save(tensors, metadata=header))


def load(path):
    """Returns (tensors, meta) from a checkpoint; a missing, truncated, corrupt or foreign file gives
    a UsageError (a ValueError) naming it."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UsageError(f"checkpoint {path!r} cannot be read: {e.strerror}") from None
    try:
        tensors = st_load(data)
        header_len = int.from_bytes(data[:8], "little")
        meta = json.loads(json.loads(data[8:8 + header_len])["__metadata__"]["baremlp"])
        check_contents(tensors, meta)
    except (SafetensorError, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise UsageError(f"checkpoint {path!r} is truncated, corrupt or not a baremlp checkpoint ({e})") from None
    return tensors, meta


def header(path):
    """The checkpoint's header alone (sizes, epoch, settings, ...), without reading its tensors."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            length = int.from_bytes(f.read(8), "little")
            if not 0 < length <= os.fstat(f.fileno()).st_size - 8:  # a damaged length asks for more than the file
                raise ValueError(f"header length {length}")
            meta = json.loads(json.loads(f.read(length))["__metadata__"]["baremlp"])
        if type(meta["epoch"]) is not int or meta["epoch"] < 0:
            raise ValueError(f"epoch {meta['epoch']!r}")
    except OSError as e:
        raise UsageError(f"checkpoint {path!r} cannot be read: {e.strerror}") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise UsageError(f"checkpoint {path!r} is truncated, corrupt or not a baremlp checkpoint ({e})") from None
    return meta


def check_contents(tensors, meta):
    """Raises ValueError unless the header's layer sizes and epoch and the tensors W_i, b_i agree."""
    sizes = meta["sizes"]
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(type(s) is int and s >= 1 for s in sizes)):
        raise ValueError(f"layer sizes {sizes!r}")
    if type(meta["epoch"]) is not int or meta["epoch"] < 0:
        raise ValueError(f"epoch {meta['epoch']!r}")
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for name, shape in ((f"W{i}", (fan_out, fan_in)), (f"b{i}", (fan_out,))):
            if name not in tensors or tuple(tensors[name].shape) != shape:
                raise ValueError(f"{name} missing or not of shape {shape}")


def model_from(tensors, meta, device=None, dtype=None):
    """The trained network from a checkpoint's tensors and header (as load returns them)."""
    net = MLP(meta["sizes"], device=device, dtype=dtype or tensors["W0"].dtype)
    net.load_state_dict(tensors)
    return net


def load_model(path, device=None, dtype=None):
    """Rebuilds the trained network from a checkpoint: returns (net, meta)."""
    tensors, meta = load(path)
    return model_from(tensors, meta, device, dtype), meta


def velocity_of(tensors, device=None):
    """The momentum buffers saved with a checkpoint, or None."""
    names = sorted((k for k in tensors if re.fullmatch(r"V\d+", k)), key=lambda k: int(k[1:]))
    return [tensors[k].to(device) for k in names] or None
