"""Image readers on tiny files written here with struct/gzip, plus the real Fashion-MNIST when installed."""
import gzip
import os
import random
import re
import struct

import pytest
import torch

from baremlp.data import images


def idx_bytes(values, dims, type_code=0x08):
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + bytes(values)


def write_binary(path, data, gz=None):
    """data into path, gzipped if gz (by default: if the name ends in .gz); returns the path as a str."""
    path = str(path)
    with (gzip.open if gz or (gz is None and path.endswith(".gz")) else open)(path, "wb") as f:
        f.write(data)
    return path


def random_bytes(n, seed=0, high=255):
    rng = random.Random(seed)
    return [rng.randint(0, high) for _ in range(n)]


def write_fashion(folder, n_train=6, n_test=4, gz=True):
    """A tiny Fashion-MNIST folder; returns {prefix: (pixel bytes, labels)}."""
    suffix = ".gz" if gz else ""
    written = {}
    for i, (prefix, n) in enumerate([("train", n_train), ("t10k", n_test)]):
        pixels, labels = random_bytes(n * 784, seed=i), random_bytes(n, seed=10 + i, high=9)
        write_binary(folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(pixels, (n, 28, 28)))
        write_binary(folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels, (n,)))
        written[prefix] = pixels, labels
    return written


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_round_trip(tmp_path, name):
    pixels, labels = random_bytes(5 * 784), random_bytes(5, high=9)
    got = images.read_idx(write_binary(tmp_path / name, idx_bytes(pixels, (5, 28, 28))))
    assert got.dtype == torch.uint8 and got.shape == (5, 28, 28)
    assert got.flatten().tolist() == pixels
    got = images.read_idx(write_binary(tmp_path / ("labels" + name[6:]), idx_bytes(labels, (5,))))
    assert got.shape == (5,) and got.tolist() == labels


@pytest.mark.parametrize("gz", [True, False])
def test_load_tiny_fashion_mnist(tmp_path, gz):
    written = write_fashion(tmp_path, gz=gz)
    data = images.load("fashion-mnist", tmp_path)
    assert data.x.shape == (6, 784) and data.x_test.shape == (4, 784)
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.int64 and data.y_test.dtype == torch.int64
    assert torch.equal(data.x, torch.tensor(written["train"][0], dtype=torch.float32).reshape(6, 784) / 255)
    assert torch.equal(data.x_test, torch.tensor(written["t10k"][0], dtype=torch.float32).reshape(4, 784) / 255)
    assert data.y.tolist() == written["train"][1] and data.y_test.tolist() == written["t10k"][1]
    assert data.classes == images.FASHION_CLASSES and len(data.classes) == 10
    assert images.load("fashion-mnist", str(tmp_path), dtype=torch.float64).x.dtype == torch.float64


def test_plain_file_preferred_when_both_exist(tmp_path):
    write_fashion(tmp_path, gz=True)
    write_binary(tmp_path / "train-labels-idx1-ubyte", idx_bytes([3] * 6, (6,)))
    assert images.load("fashion-mnist", tmp_path).y.tolist() == [3] * 6


def test_idx_errors(tmp_path):
    good = idx_bytes(random_bytes(3 * 784), (3, 28, 28))
    cases = [
        (b"\x01" + good[1:], "two zero bytes"),
        (good[:2] + b"\x0d" + good[3:], r"type code 0x0d: expected 0x08"),
        (good[:-5], r"is truncated: header says 3×28×28 = 2352 bytes of data, found 2347"),
        (good + b"xyz", r"longer than its header says: header says 3×28×28 = 2352 bytes of data, found 2355"),
        (good[:9], r"is truncated: its header declares 3 dims"),
    ]
    for i, (data, message) in enumerate(cases):
        path = write_binary(tmp_path / f"bad{i}.gz", data)
        with pytest.raises(ValueError, match=f"^{re.escape(str(path))} .*{message}"):
            images.read_idx(path)


def replace_file(folder, name, data):
    os.remove(folder / (name + ".gz"))
    return write_binary(folder / name, data)


def test_fashion_count_mismatch(tmp_path):
    write_fashion(tmp_path)
    path = replace_file(tmp_path, "t10k-labels-idx1-ubyte", idx_bytes([1, 2, 3], (3,)))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz holds 4 images but .*t10k-labels-idx1-ubyte "
                                         r"holds 3 labels"):
        images.load("fashion-mnist", tmp_path)
    assert path.endswith("t10k-labels-idx1-ubyte")


def test_fashion_label_out_of_range(tmp_path):
    write_fashion(tmp_path)
    path = replace_file(tmp_path, "train-labels-idx1-ubyte", idx_bytes([0, 1, 2, 10, 4, 5], (6,)))
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} has label 10 at index 3: expected 0 to 9"):
        images.load("fashion-mnist", tmp_path)


def test_fashion_wrong_image_size(tmp_path):
    write_fashion(tmp_path)
    path = replace_file(tmp_path, "train-images-idx3-ubyte", idx_bytes(bytes(6 * 32 * 32), (6, 32, 32)))
    with pytest.raises(ValueError, match=f"^{re.escape(path)} holds an array of shape 6×32×32: expected N×28×28"):
        images.load("fashion-mnist", tmp_path)


def test_corrupt_gzip(tmp_path):
    write_fashion(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"")[:10] + b"this is not deflate data at all" * 10)
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} is not a valid gzip file"):
        images.load("fashion-mnist", tmp_path)
    path.write_bytes(path.read_bytes()[:5])  # cut inside the gzip header
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} is not a valid gzip file"):
        images.read_idx(path)


def test_missing_fashion_folder(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(ValueError, match=f"Fashion-MNIST not found in {re.escape(str(folder))} "
                                         r"\(looked for train-images-idx3-ubyte\[\.gz\]\).*"
                                         r"apt-get install dataset-fashion-mnist.*--data-dir"):
        images.load("fashion-mnist", folder)


def test_unknown_name():
    with pytest.raises(ValueError, match="data set 'mnist' unknown: expected fashion-mnist or cifar10"):
        images.load("mnist", "/tmp")


def cifar_records(n, seed):
    labels, pixels = random_bytes(n, seed=seed, high=9), random_bytes(n * 3072, seed=100 + seed)
    data = b"".join(bytes([labels[i]]) + bytes(pixels[i * 3072:(i + 1) * 3072]) for i in range(n))
    return data, labels, pixels


def test_load_tiny_cifar10(tmp_path):
    train_pixels, train_labels = [], []
    for i in range(1, 6):
        data, labels, pixels = cifar_records(2, i)
        write_binary(tmp_path / f"data_batch_{i}.bin", data)
        train_pixels += pixels
        train_labels += labels
    data, test_labels, test_pixels = cifar_records(2, 0)
    write_binary(tmp_path / "test_batch.bin", data)
    got = images.load("cifar10", tmp_path)
    assert got.x.shape == (10, 3072) and got.x_test.shape == (2, 3072) and got.y.dtype == torch.int64
    assert torch.equal(got.x, torch.tensor(train_pixels, dtype=torch.float32).reshape(10, 3072) / 255)
    assert torch.equal(got.x_test, torch.tensor(test_pixels, dtype=torch.float32).reshape(2, 3072) / 255)
    assert got.y.tolist() == train_labels and got.y_test.tolist() == test_labels
    assert got.classes == images.CIFAR_CLASSES
    x, y = images.read_cifar_batch(tmp_path / "test_batch.bin")
    assert x.shape == (2, 3, 32, 32) and x.dtype == torch.uint8
    assert x[1, 2, 31, 31] == test_pixels[-1] and x[0, 1, 0, 0] == test_pixels[1024]  # channel-major


def test_cifar_errors(tmp_path):
    path = write_binary(tmp_path / "data_batch_1.bin", cifar_records(2, 0)[0][:-1])
    message = "is truncated .*6145 bytes are not a whole number of 3073-byte records"
    with pytest.raises(ValueError, match=f"^{re.escape(path)} {message}"):
        images.read_cifar_batch(path)
    path = write_binary(tmp_path / "data_batch_1.bin", b"\x0c" + bytes(3072))
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} has label 12 at index 0"):
        images.read_cifar_batch(path)
    with pytest.raises(ValueError, match=r"CIFAR-10 not found in .*data_batch_2.bin.*--data-dir.*cifar-10-binary"):
        images.load("cifar10", tmp_path)
    with pytest.raises(ValueError, match="--data-dir"):
        images.load("cifar10")


def test_source_uses_no_pickle():
    source = open(images.__file__).read()
    assert "import pickle" not in source and "pickle.load" not in source and "torch.load" not in source


@pytest.mark.skipif(not os.path.isdir(images.FASHION_MNIST_DIR), reason="dataset-fashion-mnist not installed")
def test_real_fashion_mnist():
    data = images.load("fashion-mnist")
    assert data.x.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert torch.bincount(data.y, minlength=10).tolist() == [6000] * 10
    assert torch.bincount(data.y_test, minlength=10).tolist() == [1000] * 10
    assert data.x.min() == 0 and data.x.max() == 1 and data.x_test.min() >= 0 and data.x_test.max() <= 1
