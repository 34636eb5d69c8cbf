"""Fashion-MNIST beside MNIST: the dataset registry, its routes and checks, its tensors (digits.mnist, digits.data).
The real Debian route is slow: `pytest -m slow tests/test_fashion.py`."""

import dataclasses
import hashlib
import struct
import time

import numpy as np
import pytest
import torch
from torchvision.datasets import MNIST, FashionMNIST

import digits.data as tensors
from digits import mnist as data

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]  # the Fashion-MNIST README's table of labels


def write_idx(folder, images, labels, prefix):
    """IDX files as the MNIST page describes them (magic 0x0803 / 0x0801, big-endian sizes), written by hand."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(labels)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x0803, n, 28, 28) + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x0801, n) + labels.tobytes())


def fake_dataset(root, dataset, seed, n=(40, 20)):
    rng = np.random.default_rng(seed)
    for prefix, k in zip(("train", "t10k"), n):
        write_idx(data.raw_folder(root, dataset), rng.integers(0, 256, (k, 28, 28), dtype=np.uint8),
                  rng.integers(0, 10, k, dtype=np.uint8), prefix)


def test_the_registry_names_both_datasets_and_their_classes():
    assert data.DATASETS["mnist"].classes == tuple(str(d) for d in range(10))
    assert list(data.DATASETS["fashion"].classes) == FASHION_CLASSES
    assert (data.DATASETS["mnist"].title, data.DATASETS["fashion"].title) == ("MNIST", "Fashion-MNIST")
    assert data.raw_folder("r").as_posix() == "r/MNIST/raw"  # existing data folders keep working
    assert data.raw_folder("r", "fashion").as_posix() == "r/FashionMNIST/raw"  # where torchvision reads it
    assert [label.split()[0] for label, _ in data.DATASETS["fashion"].routes] == ["torchvision", "Debian"]


@pytest.mark.parametrize("call", [
    lambda: data.ensure_dataset("kmnist"), lambda: data.raw_folder(None, "kmnist"), lambda: data.ready(None, "kmnist"),
    lambda: tensors.load_splits(dataset="kmnist"), lambda: tensors.load_test(dataset="kmnist"),
])
def test_an_unknown_dataset_is_one_line(call):
    with pytest.raises(ValueError, match="unknown dataset 'kmnist': choose one of mnist, fashion") as e:
        call()
    assert "\n" not in str(e.value)


def test_a_wrong_fashion_file_is_refused_and_deleted(tmp_path):
    fake_dataset(tmp_path, "fashion", seed=0)
    raw = data.raw_folder(tmp_path, "fashion")
    assert set(data.verify(tmp_path, delete_bad=True, dataset="fashion")) == set(data.FASHION_MD5)
    assert list(raw.iterdir()) == [] and not data.ready(tmp_path, "fashion")


def test_routes_are_tried_in_order_until_one_gives_verified_files(tmp_path, monkeypatch):
    good = b"the real thing"
    tried = []

    def offline(root):
        tried.append("offline")
        raise OSError("network is unreachable")

    def wrong(root):
        tried.append("wrong")
        (data.raw_folder(root, "fashion") / "only-file").write_bytes(b"something else")

    def right(root):
        tried.append("right")
        assert not (data.raw_folder(root, "fashion") / "only-file").exists()  # the wrong one was deleted
        (data.raw_folder(root, "fashion") / "only-file").write_bytes(good)

    def never(root):
        tried.append("never")

    one_file = dataclasses.replace(data.DATASETS["fashion"], md5={"only-file": hashlib.md5(good).hexdigest()},
                                   routes=(("A", offline), ("B", wrong), ("C", right), ("D", never)))
    monkeypatch.setitem(data.DATASETS, "fashion", one_file)
    said = []
    assert data.ensure_dataset("fashion", tmp_path, said.append) == tmp_path
    assert tried == ["offline", "wrong", "right"]
    assert said[-1].startswith("Fashion-MNIST ready in") and "via C" in said[-2]
    assert data.ensure_dataset("fashion", tmp_path) == tmp_path and len(tried) == 3  # files there: no route runs


def test_fashion_failing_everywhere_says_what_was_tried_and_where_to_put_the_files(tmp_path, monkeypatch):
    def offline(root):
        raise OSError("network is unreachable")

    offline_fashion = dataclasses.replace(data.DATASETS["fashion"], routes=(("route A", offline),))
    monkeypatch.setitem(data.DATASETS, "fashion", offline_fashion)
    with pytest.raises(data.MNISTUnavailable) as e:
        data.ensure_dataset("fashion", tmp_path)
    lines = str(e.value).splitlines()
    assert lines[0] == "Could not obtain Fashion-MNIST. Tried:"
    assert "route A: OSError: network is unreachable" in lines[1]
    assert str(data.raw_folder(tmp_path, "fashion")) in lines[-1] and "t10k-labels-idx1-ubyte" in lines[-1]


def test_each_dataset_has_its_own_tensors_and_cache(tmp_path, monkeypatch):
    fake_dataset(tmp_path, "mnist", seed=1)
    fake_dataset(tmp_path, "fashion", seed=2)
    monkeypatch.setattr(tensors, "ensure_dataset", lambda name, root, progress: root)  # fake files: no MD5 to pass
    for dataset, reader in (("fashion", FashionMNIST), ("mnist", MNIST), ("fashion", FashionMNIST)):
        test = tensors.load_test(tmp_path, dataset=dataset)
        reference = reader(str(tmp_path), train=False)  # torchvision reading the IDX files is the reference
        assert torch.equal(test.images, reference.data) and torch.equal(test.labels, reference.targets)
    assert (tmp_path / "MNIST" / tensors.CACHE).is_file() and (tmp_path / "FashionMNIST" / tensors.CACHE).is_file()
    splits = tensors.load_splits(val_size=10, root=tmp_path, dataset="fashion")
    assert (len(splits.train), len(splits.val), len(splits.test)) == (30, 10, 20)


@pytest.mark.slow
def test_the_debian_package_gives_the_canonical_fashion_mnist(tmp_path):
    started = time.perf_counter()
    data.via_debian_package(tmp_path)  # the real route: apt-get download, dpkg-deb -x, gunzip
    assert data.verify(tmp_path, dataset="fashion") == []
    print(f"Debian route: {time.perf_counter() - started:.1f} s (download, extract, verify)")
    splits = tensors.load_splits(val_size=10_000, seed=0, root=tmp_path, dataset="fashion")
    assert (len(splits.train) + len(splits.val), len(splits.test)) == (60_000, 10_000)
    assert splits.test.images.shape == (10_000, 28, 28) and splits.test.images.dtype == torch.uint8
    train_labels = torch.cat([splits.train.labels, splits.val.labels])
    assert torch.bincount(train_labels).tolist() == [6_000] * 10
    assert torch.bincount(splits.test.labels).tolist() == [1_000] * 10


@pytest.mark.slow
def test_a_fresh_data_folder_trains_on_fashion_mnist_through_the_cli(tmp_path):
    """#29: Fashion-MNIST trains offline from nothing (the Debian route), and the checkpoint says what it reads."""
    import os
    import subprocess
    import sys

    from digits import load_checkpoint

    env = {**os.environ, "DIGITS_DATA": str(tmp_path / "data")}  # no files yet: every route from the start
    done = subprocess.run([sys.executable, "-m", "digits", "train", "--dataset", "fashion", "--model", "cnn",
                           "--epochs", "1", "--checkpoint", str(tmp_path / "f.pt"), "--quiet"],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr
    assert "of Fashion-MNIST" in done.stdout and "Fashion-MNIST ready" in done.stderr + done.stdout
    model, meta = load_checkpoint(tmp_path / "f.pt")
    assert meta["config"]["dataset"] == "fashion" and model.dataset == "fashion"
    assert 0.75 <= meta["metrics"]["test_acc"] < 0.97  # clothes: a 1-epoch small CNN is far from MNIST's 98%
    done = subprocess.run([sys.executable, "-m", "digits", "evaluate", str(tmp_path / "f.pt")], capture_output=True,
                          text=True, timeout=900, env=env)
    assert done.returncode == 0 and "  Ankle boot: " in done.stdout, done.stderr
    done = subprocess.run([sys.executable, "-m", "digits", "detector", str(tmp_path / "f.pt")], capture_output=True,
                          text=True, timeout=900, env=env)
    assert done.returncode == 2 and "reads Fashion-MNIST: the not-a-digit detector is for digit models" in done.stderr
