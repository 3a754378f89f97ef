"""Tests of the torchvision datasets: offline errors and a fake CIFAR-10 read by torchvision.

The fake CIFAR-10 is written in torchvision's exact format (pickled batches). torchvision checks
each file's md5 against its class-level lists, so the test points those lists (``train_list``,
``test_list``, ``meta``) at the md5s of the fake files with ``monkeypatch``: torchvision's own
loader, integrity check included, runs unchanged, and nothing is bypassed or subclassed.
"""

import hashlib
import os
import pickle
import urllib.error

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from benchmarks.data import dataset_fingerprint, dataset_options, list_datasets, load_dataset

NAMES = ["cifar10", "cifar100", "dtd", "eurosat", "fashion_mnist", "flowers102", "food101",
         "mnist", "oxford_pets"]  # fmt: skip
LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck"]  # fmt: skip
PER_BATCH = 20  # two images per class in each of the five training batches and the test batch


def _write_batch(path, seed):
    """One CIFAR batch: rows of 3072 bytes (R plane, G plane, B plane) and their labels."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8)
    labels = [i % 10 for i in range(PER_BATCH)]
    entry = {"batch_label": path.name, "labels": labels, "data": data,
             "filenames": [f"{i}.png" for i in range(PER_BATCH)]}  # fmt: skip
    path.write_bytes(pickle.dumps(entry))
    return data, labels


@pytest.fixture
def fake_cifar10(tmp_path, monkeypatch):
    """A CIFAR-10 root with 100 training and 20 test images; returns (root, data, test data)."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    train = [_write_batch(folder / f"data_batch_{i}", seed=i) for i in range(1, 6)]
    test = _write_batch(folder / "test_batch", seed=0)
    meta = {"label_names": LABEL_NAMES, "num_cases_per_batch": PER_BATCH, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))

    def md5(name):
        return hashlib.md5((folder / name).read_bytes()).hexdigest()

    cifar = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cifar, "train_list", [[f"data_batch_{i}", md5(f"data_batch_{i}")]
                                              for i in range(1, 6)])  # fmt: skip
    monkeypatch.setattr(cifar, "test_list", [["test_batch", md5("test_batch")]])
    monkeypatch.setattr(cifar, "meta", {**cifar.meta, "md5": md5("batches.meta")})
    return tmp_path, np.concatenate([d for d, _ in train]), test[0]


def test_all_names_registered_with_options():
    assert set(NAMES) <= set(list_datasets())
    for name in NAMES:
        assert set(dataset_options(name)) == {"root", "download", "classes", "image_size"}
        assert dataset_options(name)["download"] is False


def test_default_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FTBENCH_DATA", str(tmp_path))
    assert dataset_options("cifar10")["root"] == str(tmp_path)
    monkeypatch.delenv("FTBENCH_DATA")
    assert dataset_options("cifar10")["root"].endswith(os.path.join(".cache", "ftbench", "data"))


def test_offline_error_names_files_and_ways_out(tmp_path):
    with pytest.raises(ValueError) as error:
        load_dataset("cifar10", root=tmp_path / "empty")
    message = str(error.value)
    assert "\n" not in message and "'cifar10'" in message and str(tmp_path / "empty") in message
    assert "cifar-10-batches-py" in message and "data_batch_1" in message
    assert "batches.meta" in message and "download: true" in message
    assert "put the files there" in message


@pytest.mark.parametrize("name", NAMES)
def test_every_dataset_fails_offline_in_one_line(tmp_path, name):
    with pytest.raises(ValueError, match=f"Dataset '{name}': under root") as error:
        load_dataset(name, root=tmp_path)
    message = str(error.value)
    assert "\n" not in message and "torchvision expects in" in message
    assert message.endswith(
        "Pass download: true on a machine with internet, or put the files there."
    )


def test_fake_eurosat_gets_a_fixed_stratified_test_split(tmp_path):
    for c, name in enumerate(["Forest", "River"]):
        folder = tmp_path / "eurosat" / "2750" / name
        folder.mkdir(parents=True)
        for i in range(10):
            Image.new("RGB", (8, 8), (c * 100 + i,) * 3).save(folder / f"{name}_{i}.jpg")
    data = load_dataset("eurosat", root=tmp_path)
    assert data.classes == ("Forest", "River")
    assert data.train.labels.tolist() == [0] * 8 + [1] * 8
    assert data.test.labels.tolist() == [0, 0, 1, 1]
    assert data.train.images.shape == (16, 3, 8, 8)
    again = load_dataset("eurosat", root=tmp_path, classes=["River", "Forest"])
    assert torch.equal(again.test.images[again.test.labels == 0], data.test.images[2:])


def test_network_error_is_translated(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", no_network)
    with pytest.raises(ValueError, match="downloading its files must succeed.*no route to host"):
        load_dataset("cifar10", root=tmp_path, download=True)


def test_unknown_option_names_valid_ones_and_closest():
    with pytest.raises(ValueError, match="Did you mean: image_size") as error:
        load_dataset("cifar10", imagesize=32)
    assert "option in classes, download, image_size, root must hold" in str(error.value)


def test_fake_cifar10_loads_through_torchvision(fake_cifar10):
    root, train_data, test_data = fake_cifar10
    data = load_dataset("cifar10", root=root)
    assert (data.name, data.family, data.classes) == ("cifar10", "far", tuple(LABEL_NAMES))
    assert data.train.images.shape == (100, 3, 32, 32)
    assert data.test.images.shape == (20, 3, 32, 32)
    assert data.train.images.dtype == torch.uint8 and data.train.images.is_contiguous()
    assert data.train.labels.dtype == torch.int64
    assert torch.equal(data.train.labels, torch.arange(100) % 10)
    expected = torch.from_numpy(train_data.reshape(-1, 3, 32, 32))
    assert torch.equal(data.train.images, expected)
    assert torch.equal(data.test.images, torch.from_numpy(test_data.reshape(-1, 3, 32, 32)))


def test_fake_cifar10_options(fake_cifar10):
    root = fake_cifar10[0]
    data = load_dataset("cifar10", root=root, classes=["truck", 0], image_size=16)
    assert data.classes == ("truck", "airplane")
    assert data.train.images.shape == (20, 3, 16, 16) and data.test.images.shape == (4, 3, 16, 16)
    assert torch.equal(data.train.labels[:2], torch.tensor([1, 0]))
    with pytest.raises(ValueError, match="Did you mean: truck"):
        load_dataset("cifar10", root=root, classes=["truk"])
    with pytest.raises(ValueError, match="0 <= index < 10"):
        load_dataset("cifar10", root=root, classes=[10])


def test_fingerprint_follows_options_and_files(fake_cifar10):
    root = fake_cifar10[0]
    base = dataset_fingerprint("cifar10", root=root)
    assert base == dataset_fingerprint("cifar10", root=str(root))
    assert base == dataset_fingerprint("cifar10", root=root, download=True)
    others = [dataset_fingerprint("cifar10", root=root, classes=[0, 1]),
              dataset_fingerprint("cifar10", root=root, image_size=16),
              dataset_fingerprint("cifar10", root=root / "elsewhere")]  # fmt: skip
    assert len({base, *others}) == 4
    batch = root / "cifar-10-batches-py" / "test_batch"
    stat = batch.stat()
    os.utime(batch, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert dataset_fingerprint("cifar10", root=root) != base


def test_a_missing_dataset_in_the_data_folder_names_ftbench_data(tmp_path, monkeypatch):
    monkeypatch.setenv("FTBENCH_DATA", str(tmp_path / "data"))
    with pytest.raises(ValueError) as error:
        load_dataset("cifar10")
    assert str(error.value).endswith(
        f"put the files there. That is under the data folder {tmp_path / 'data'}, which the "
        f"environment variable FTBENCH_DATA={tmp_path / 'data'} sets: check that it names the "
        "folder holding the data.")
    monkeypatch.delenv("FTBENCH_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ValueError) as error:
        load_dataset("mnist")
    assert str(error.value).endswith(
        f"That is under the default data folder {tmp_path / '.cache/ftbench/data'}, as the "
        "environment variable FTBENCH_DATA is not set: set it to the folder holding the data.")
    assert "\n" not in str(error.value)
