"""Torchvision datasets by name: where their files live, which splits they pool, and errors.

Registered (family "far", relative to the synthetic source task), each with the options
``root``, ``download``, ``classes`` and ``image_size`` (see ``benchmarks.data.options``):

* ``cifar10``, ``cifar100``: official train / test batches.
* ``mnist``, ``fashion_mnist``: official train / t10k files, read directly from the IDX files,
  gzip-compressed or not, so the read-only distribution folder works as it is.
* ``flowers102``, ``dtd``: train + val pooled for training; official test split (DTD
  partition 1).
* ``oxford_pets``: official trainval / test.
* ``food101``: official train / test.
* ``eurosat``: no official split; a fixed stratified 20% test split, seed 0
  (``round(0.2 * n)`` test images per class).

Datasets of images of different sizes (flowers102, oxford_pets, dtd, food101) need
``image_size``. Nothing is downloaded unless ``download=True`` is passed; missing files raise
one ``ValueError`` line that names the files torchvision expects.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.data._tasks import Samples, assemble_task, concat, stratified_split
from benchmarks.data.idx import IDX_FILES, idx_file, read_idx_split
from benchmarks.data.options import REAL_OPTIONS, data_folder_note
from benchmarks.data.registry import TaskData, register_dataset

_IDX_EXPECTS = ", ".join(f"{base}[.gz]" for base in IDX_FILES)


@dataclass(frozen=True)
class TorchvisionSource:
    """One torchvision dataset: its class, folder under ``root`` and the splits it pools."""

    tv_class: str  # name in torchvision.datasets
    folder: str  # relative to root
    expects: str  # what torchvision needs in that folder, for messages
    split_arg: str | None = "train"  # the constructor's split keyword, None if it has none
    train: tuple[bool | str | None, ...] = (True,)  # split values pooled for training
    test: tuple[bool | str | None, ...] = (False,)  # () : a stratified 20% test split, seed 0
    idx: bool = False  # MNIST format: read the IDX files directly


SOURCES: dict[str, TorchvisionSource] = {
    "cifar10": TorchvisionSource(
        "CIFAR10", "cifar-10-batches-py",
        "data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5, test_batch, "
        "batches.meta",
    ),
    "cifar100": TorchvisionSource("CIFAR100", "cifar-100-python", "train, test, meta"),
    "mnist": TorchvisionSource("MNIST", "MNIST/raw", _IDX_EXPECTS, idx=True),
    "fashion_mnist": TorchvisionSource("FashionMNIST", "FashionMNIST/raw", _IDX_EXPECTS, idx=True),
    "flowers102": TorchvisionSource(
        "Flowers102", "flowers-102", "jpg/image_*.jpg, imagelabels.mat, setid.mat",
        "split", ("train", "val"), ("test",),
    ),
    "oxford_pets": TorchvisionSource(
        "OxfordIIITPet", "oxford-iiit-pet",
        "images/*.jpg, annotations/trainval.txt, annotations/test.txt",
        "split", ("trainval",), ("test",),
    ),
    "dtd": TorchvisionSource(
        "DTD", "dtd/dtd", "images/<class>/*.jpg, labels/train1.txt, labels/val1.txt, "
        "labels/test1.txt", "split", ("train", "val"), ("test",),
    ),
    "eurosat": TorchvisionSource(
        "EuroSAT", "eurosat/2750", "<class>/*.jpg, one folder per class", None, (None,), ()
    ),
    "food101": TorchvisionSource(
        "Food101", "food-101", "images/<class>/*.jpg, meta/train.json, meta/test.json",
        "split", ("train",), ("test",),
    ),
}  # fmt: skip


def build_torchvision(
    name: str,
    family: str,
    *,
    root: str,
    download: bool,
    classes: tuple[int | str, ...] | None,
    image_size: int | None,
) -> TaskData:
    """Load dataset ``name`` of ``SOURCES`` through torchvision, decoded once into uint8.

    Raises:
        ValueError: One line if the files are missing or broken, the download fails, an option
            does not fit the data, or images differ in size without ``image_size``.
    """
    source = SOURCES[name]
    if source.idx:
        class_names, train, test = _idx_samples(name, source, root, download)
    else:
        class_names, train = _pooled(name, source, root, download, source.train)
        if source.test:
            test_names, test = _pooled(name, source, root, download, source.test)
            _check_same_classes(name, class_names, test_names)
        else:
            train, test = stratified_split(name, train, class_names, 0.2, 0)
    return assemble_task(name, family, class_names, (train, test), classes, image_size)


def _data_folder(name: str, *, root: str, **_: object) -> list[Path]:
    """The folder whose files make up dataset ``name`` (for the fingerprint)."""
    return [Path(root) / SOURCES[name].folder]


def _not_available(name: str, root: str, download: bool, reason: str) -> ValueError:
    """The one-line error for a dataset whose files are missing, broken or not downloadable."""
    source = SOURCES[name]
    reason = " ".join(reason.split())[:300]
    what = "downloading its files must succeed" if download else "its files must exist"
    return ValueError(
        f"Dataset '{name}': under root '{root}' {what}, but got {reason}. torchvision expects "
        f"in {Path(root) / source.folder}: {source.expects}. Pass download: true on a machine "
        f"with internet, or put the files there.{data_folder_note(root)}"
    )


def _open(name: str, root: str, download: bool, split: bool | str | None) -> object:
    """The torchvision dataset object of one split; every failure becomes ``ValueError``."""
    from torchvision import datasets

    source = SOURCES[name]
    kwargs = {source.split_arg: split} if source.split_arg else {}
    try:
        return getattr(datasets, source.tv_class)(root, download=download, **kwargs)
    except Exception as err:  # torchvision: RuntimeError, OSError, URLError, archive errors...
        raise _not_available(name, root, download, f"{type(err).__name__} ({err})") from err


def _samples(dataset: object) -> tuple[list[str], Samples]:
    """Class names and undecoded samples of a torchvision dataset object."""
    labels = getattr(dataset, "targets", None)
    labels = np.asarray(dataset._labels if labels is None else labels, dtype=np.int64)
    if hasattr(dataset, "samples"):  # ImageFolder (EuroSAT)
        return list(dataset.classes), Samples(labels, tuple(p for p, _ in dataset.samples))
    for attribute in ("_image_files", "_images"):  # Flowers102, DTD, Food101 / OxfordIIITPet
        if hasattr(dataset, attribute):
            paths = tuple(str(p) for p in getattr(dataset, attribute))
            return list(dataset.classes), Samples(labels, paths)
    return list(dataset.classes), Samples(labels, array=np.asarray(dataset.data))  # CIFAR


def _pooled(
    name: str,
    source: TorchvisionSource,
    root: str,
    download: bool,
    splits: tuple[bool | str | None, ...],
) -> tuple[list[str], Samples]:
    """Class names and the samples of ``splits`` pooled (e.g. train + val)."""
    parts = [_samples(_open(name, root, download, split)) for split in splits]
    for names, _ in parts[1:]:
        _check_same_classes(name, parts[0][0], names)
    return parts[0][0], concat([samples for _, samples in parts])


def _check_same_classes(name: str, expected: list[str], got: list[str]) -> None:
    if got != expected:
        raise ValueError(
            f"Dataset '{name}': the same classes in every split must hold, but got "
            f"{len(expected)} and {len(got)} classes. Check that the files are complete."
        )


def _idx_samples(
    name: str, source: TorchvisionSource, root: str, download: bool
) -> tuple[list[str], Samples, Samples]:
    """Class names, training pool and test split of an MNIST-style dataset."""
    folder = Path(root) / source.folder
    missing = [base for base in IDX_FILES if idx_file(folder, base) is None]
    if missing and download:
        _open(name, root, download, True)  # torchvision fetches all four files
        missing = [base for base in IDX_FILES if idx_file(folder, base) is None]
    if missing:
        raise _not_available(name, root, download, f"no {', '.join(missing)} (nor .gz)")
    from torchvision import datasets

    class_names = list(getattr(datasets, source.tv_class).classes)
    splits = []
    for prefix in ("train", "t10k"):
        images, labels = read_idx_split(folder, prefix)
        if labels.size and labels.max() >= len(class_names):
            raise _not_available(name, root, download, f"labels up to {labels.max()}")
        splits.append(Samples(labels, array=images))
    return class_names, splits[0], splits[1]


for _name in SOURCES:
    register_dataset(
        _name, "far", build_torchvision, options=REAL_OPTIONS,
        files=functools.partial(_data_folder, _name),
    )  # fmt: skip
del _name
