"""Readers for two image data sets, returning flattened pixels in [0, 1] and int64 class indices.

Fashion-MNIST comes as four IDX files (optionally gzipped): a 4-byte magic (0, 0, type code,
number of dims), one big-endian uint32 per dim, then the data; type 0x08 (unsigned byte) is
the only one used, so the only one accepted.  Images are N×28×28, labels N.

CIFAR-10's binary version is six files of 10000 records, each 1 label byte followed by 3072
pixel bytes, channel-major (1024 red, 1024 green, 1024 blue, each 32×32 row-major).

    images = load("fashion-mnist")              # from /usr/share/datasets/fashion-mnist
    images = load("cifar10", "cifar-10-batches-bin")
"""
import gzip
import math
import os
import zlib
from typing import NamedTuple

import numpy as np
import torch

from ..errors import UsageError

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"  # where Debian's dataset-fashion-mnist installs them
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR_RECORD = 1 + 3 * 32 * 32


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if not str(path).endswith(".gz"):
        return raw
    try:  # a corrupt download shows up as any of three exception types; report them all as one
        return gzip.decompress(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise UsageError(f"{path} is not a valid gzip file ({e})") from None


def read_idx(path) -> torch.Tensor:
    """The uint8 array in an IDX file (gzipped if the name ends in .gz), with the file's dims."""
    data = _read_bytes(path)
    if len(data) < 4 or data[:2] != b"\0\0":
        raise UsageError(f"{path} is not an IDX file: it should start with two zero bytes, found {data[:4]!r}")
    if data[2] != 0x08:
        raise UsageError(f"{path} has IDX type code 0x{data[2]:02x}: expected 0x08 (unsigned byte)")
    start = 4 + 4 * data[3]
    if len(data) < start:
        raise UsageError(f"{path} is truncated: its header declares {data[3]} dims but the file ends at byte "
                         f"{len(data)}")
    dims = tuple(int.from_bytes(data[i:i + 4], "big") for i in range(4, start, 4))
    size, found = math.prod(dims), len(data) - start
    if found != size:  # too few bytes is a cut-off download, too many a wrong header: both unusable
        what = "truncated" if found < size else "longer than its header says"
        raise UsageError(f"{path} is {what}: header says {'×'.join(map(str, dims))} = {size} bytes of data, "
                         f"found {found}")
    # copy: frombuffer over immutable bytes gives a read-only array that torch would warn about
    return torch.from_numpy(np.frombuffer(memoryview(data)[start:], np.uint8).reshape(dims).copy())


def read_cifar_batch(path):
    """Images uint8 (N, 3, 32, 32) and labels int64 (N,) from one file of CIFAR-10's binary version."""
    data = _read_bytes(path)
    if not data or len(data) % CIFAR_RECORD:
        raise UsageError(f"{path} is truncated or not a CIFAR-10 binary batch: its {len(data)} bytes are not a "
                         f"whole number of {CIFAR_RECORD}-byte records (1 label + 3072 pixels)")
    records = np.frombuffer(data, np.uint8).reshape(-1, CIFAR_RECORD)
    labels = torch.from_numpy(records[:, 0].astype(np.int64))
    _check_labels(path, labels)
    return torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).copy()), labels


def _check_labels(path, labels):
    if len(labels) and int(labels.max()) >= 10:
        i = int(torch.argmax((labels >= 10).to(torch.uint8)))
        raise UsageError(f"{path} has label {int(labels[i])} at index {i}: expected 0 to 9")


def _find(folder, name, missing):
    """The file, plain preferred (no decompression) over gzipped; `missing` says how to get it."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise UsageError(missing)


def _fashion_split(folder, prefix):
    paths = []
    for kind in ("images-idx3", "labels-idx1"):
        name = f"{prefix}-{kind}-ubyte"
        paths.append(_find(folder, name, f"Fashion-MNIST not found in {folder} (looked for {name}[.gz]): install it "
                                         "with 'apt-get install dataset-fashion-mnist' or pass data_dir (--data-dir), the "
                                         "folder of the four IDX files from github.com/zalandoresearch/fashion-mnist"))
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.dim() != 3 or images.shape[1:] != (28, 28):
        shape = "×".join(map(str, images.shape))
        raise UsageError(f"{paths[0]} holds an array of shape {shape}: expected N×28×28 images")
    if labels.dim() != 1:
        raise UsageError(f"{paths[1]} holds an array of shape {'×'.join(map(str, labels.shape))}: expected N labels")
    if len(images) != len(labels):
        raise UsageError(f"{paths[0]} holds {len(images)} images but {paths[1]} holds {len(labels)} labels: "
                         "expected the same count")
    labels = labels.to(torch.int64)
    _check_labels(paths[1], labels)
    return images, labels


def _cifar_split(folder, names):
    paths = [_find(folder, name, f"CIFAR-10 not found in {folder} (looked for {name}): pass data_dir (--data-dir), the "
                                 "folder extracted from the binary version, cifar-10-binary.tar.gz from "
                                 "www.cs.toronto.edu/~kriz/cifar.html")
             for name in names]
    batches = [read_cifar_batch(p) for p in paths]
    return torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])


class Images(NamedTuple):
    x: torch.Tensor       # (N, pixels) in [0, 1]
    y: torch.Tensor       # (N,) int64 class indices
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list         # the class names, by index


def load(name, data_dir=None, dtype=torch.float32) -> Images:
    """The named data set, its training and test splits."""
    if name == "fashion-mnist":
        folder, classes = data_dir or FASHION_MNIST_DIR, FASHION_CLASSES
        train, test = _fashion_split(folder, "train"), _fashion_split(folder, "t10k")
    elif name == "cifar10":
        if data_dir is None:
            raise UsageError("CIFAR-10 has no default folder: pass data_dir (--data-dir), the folder of data_batch_1.bin to "
                             "test_batch.bin extracted from the binary version, cifar-10-binary.tar.gz")
        # Only the binary version: the python version is pickled, and unpickling a downloaded file can run code.
        folder, classes = data_dir, CIFAR_CLASSES
        train = _cifar_split(folder, [f"data_batch_{i}.bin" for i in range(1, 6)])
        test = _cifar_split(folder, ["test_batch.bin"])
    else:
        raise UsageError(f"data set {name!r} unknown: expected fashion-mnist or cifar10")

    def scale(images):
        return images.reshape(len(images), -1).to(dtype).div_(255)

    return Images(scale(train[0]), train[1], scale(test[0]), test[1], list(classes))
