"""Tests of Fashion-MNIST read from the real gzip-compressed IDX files, and of the IDX reader."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.data import dataset_fingerprint, load_dataset
from benchmarks.data.idx import read_idx

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RAW = SHARED / "FashionMNIST" / "raw"
needs_files = pytest.mark.skipif(
    not (RAW / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"the Fashion-MNIST files are not at {RAW} (only on the project's shared machine)",
)
LABELS = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")  # fmt: skip


@needs_files
def test_full_dataset():
    data = load_dataset("fashion_mnist", root=SHARED)
    assert data.classes == LABELS and data.family == "far"
    assert data.train.images.shape == (60_000, 3, 28, 28)
    assert data.test.images.shape == (10_000, 3, 28, 28)
    assert data.train.images.dtype == torch.uint8 and data.train.images.is_contiguous()
    assert torch.equal(torch.bincount(data.train.labels), torch.full((10,), 6000))
    assert torch.equal(torch.bincount(data.test.labels), torch.full((10,), 1000))
    assert data.train.labels[:5].tolist() == [9, 0, 0, 3, 0]  # the published first labels
    assert torch.equal(data.train.images[:, 0], data.train.images[:, 2])
    assert data.train.images.max() == 255 and data.train.images.min() == 0


@needs_files
def test_five_classes_are_relabelled_in_the_given_order():
    source = load_dataset("fashion_mnist", root=SHARED, classes=[0, 1, 2, 3, 4])
    target = load_dataset("fashion_mnist", root=SHARED, classes=["Ankle boot", 5, 6, 7, 8])
    assert source.classes == LABELS[:5] and target.classes == (LABELS[9], *LABELS[5:9])
    for data in (source, target):
        assert data.train.images.shape == (30_000, 3, 28, 28)
        assert data.test.images.shape == (5_000, 3, 28, 28)
        assert torch.equal(torch.unique(data.train.labels), torch.arange(5))
    full = load_dataset("fashion_mnist", root=SHARED)
    boots = full.train.images[full.train.labels == 9]
    assert torch.equal(target.train.images[target.train.labels == 0], boots)


@needs_files
def test_fingerprint_differs_by_classes():
    full = dataset_fingerprint("fashion_mnist", root=SHARED)
    assert full != dataset_fingerprint("fashion_mnist", root=SHARED, classes=[0, 1, 2, 3, 4])


def _copy_raw(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for file in RAW.glob("*.gz"):
        shutil.copy(file, raw / file.name)
    return raw


@needs_files
def test_truncated_gzip_names_the_file(tmp_path):
    raw = _copy_raw(tmp_path)
    broken = raw / "t10k-images-idx3-ubyte.gz"
    broken.write_bytes(broken.read_bytes()[:100_000])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz.*must hold") as error:
        load_dataset("fashion_mnist", root=tmp_path)
    assert "\n" not in str(error.value)


def test_bad_magic_and_size_name_the_file(tmp_path):
    labels = tmp_path / "labels.gz"
    labels.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + bytes(4)))
    with pytest.raises(ValueError, match=r"labels.gz': the IDX magic number 0x00000801"):
        read_idx(labels, 1)
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + bytes(9))
    with pytest.raises(ValueError, match=r"short': 18 bytes for shape \(10,\) must hold"):
        read_idx(short, 1)
    (tmp_path / "ok").write_bytes(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + bytes([7, 8, 9]))
    assert np.array_equal(read_idx(tmp_path / "ok", 1), [7, 8, 9])


def test_missing_files_name_them(tmp_path):
    with pytest.raises(ValueError) as error:
        load_dataset("mnist", root=tmp_path)
    message = str(error.value)
    assert "MNIST" in message and "train-images-idx3-ubyte" in message
    assert "download: true" in message and "\n" not in message
