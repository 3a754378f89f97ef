"""Dataset registry: maps dataset names to offline, deterministic loaders of ``TaskData``.

Built-in datasets (all 32x32 RGB uint8):

* ``synth_source`` (family "source"): 64 glyph classes, the pretraining task.
* ``synth_near`` (family "near"): 10 new glyph classes, distinct from every source class.
* ``synth_far`` (family "far"): 10 texture classes, a different visual family.
* ``digits`` (family "far"): scikit-learn's 1,797 handwritten 8x8 digits, upsampled.

Real datasets (``cifar10``, ``fashion_mnist``, ``imagefolder``, ...) register in
``benchmarks.data.tv`` and ``benchmarks.data.imagefolder`` and take options, e.g.
``load_dataset("fashion_mnist", classes=[0, 1, 2, 3, 4])``; ``dataset_options(name)`` lists them.

Loaded datasets are cached in memory; every call returns fresh tensor copies, so callers may
modify what they get.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmarks.data import synthetic
from benchmarks.data._files import files_fingerprint
from benchmarks.data.options import resolve_options, shown_defaults
from benchmarks.data.synthetic_classes import (
    GlyphClass,
    TextureClass,
    sample_glyph_classes,
    sample_texture_classes,
)
from benchmarks.messages import did_you_mean

FAMILIES = ("source", "near", "far")


@dataclass(frozen=True)
class ImageSet:
    """Images and labels of one split."""

    images: torch.Tensor  # uint8, (N, 3, H, W), contiguous
    labels: torch.Tensor  # int64, (N,)


@dataclass(frozen=True)
class TaskData:
    """A classification task: a training pool and an untouched test split."""

    name: str
    family: str
    classes: tuple[str, ...]
    train: ImageSet
    test: ImageSet


@dataclass(frozen=True)
class DatasetSpec:
    """How to build one dataset: ``build(name, family, **params, **options)``.

    ``params`` fix the data and key the cache; ``options`` are the keys a caller may set, with
    their defaults; ``files(**options)`` names the files or folders whose state the fingerprint
    covers.
    """

    name: str
    family: str
    build: Callable[..., TaskData]
    params: tuple[tuple[str, float | str], ...]
    options: tuple[tuple[str, object], ...] = ()
    files: Callable[..., Sequence[Path]] | None = None


_REGISTRY: dict[str, DatasetSpec] = {}


def register_dataset(
    name: str,
    family: str,
    build: Callable[..., TaskData],
    *,
    options: Mapping[str, object] | None = None,
    files: Callable[..., Sequence[Path]] | None = None,
    **params: float | str,
) -> None:
    """Register a dataset built by ``build(name, family, **params, **options)``.

    Args:
        name: Registry name.
        family: "source", "near" or "far", relative to the built-in source task.
        build: Builder returning ``TaskData``.
        options: Option keys a caller may pass to ``load_dataset``, with their defaults (see
            ``benchmarks.data.options``); none by default.
        files: ``files(**options)`` gives the files or folders the data is read from; their
            sizes and modification times enter the fingerprint.
        **params: JSON-serialisable values that fully determine the data.

    Raises:
        ValueError: If the name is taken or the family is unknown.
    """
    if name in _REGISTRY:
        raise ValueError(
            f"Dataset '{name}': a unique name must hold, but got an existing one. "
            f"Pick another name."
        )
    if family not in FAMILIES:
        raise ValueError(
            f"Dataset '{name}': family in {FAMILIES} must hold, but got {family!r}. "
            f"Use one of {FAMILIES}."
        )
    fixed, accepted = tuple(sorted(params.items())), tuple((options or {}).items())
    _REGISTRY[name] = DatasetSpec(name, family, build, fixed, accepted, files)


def list_datasets(pattern: str = "*") -> list[str]:
    """Sorted registered names matching an ``fnmatch`` wildcard, e.g. ``"synth_*"``."""
    return sorted(fnmatch.filter(_REGISTRY, pattern))


def _spec(name: str) -> DatasetSpec:
    """The spec of ``name``; an unknown name raises a ``ValueError`` with close matches."""
    if name not in _REGISTRY:
        raise ValueError(
            f"Dataset '{name}': a registered name must hold, but got an unknown one."
            f"{did_you_mean(name, _REGISTRY)} Valid names: {', '.join(list_datasets())}."
        )
    return _REGISTRY[name]


def dataset_options(name: str) -> dict[str, object]:
    """Options ``load_dataset(name, **options)`` accepts, with defaults (``{}``: fixed data).

    A ``root`` default shows the folder it resolves to now; ``REQUIRED`` marks a must-give.
    """
    return shown_defaults(dict(_spec(name).options))


def dataset_fingerprint(name: str, **options: object) -> str:
    """Short stable hash of everything that determines the data of ``name``.

    Covers the generator version, name, family and build parameters (seeds, sizes, image size);
    for datasets with options also the options (all but ``download``, which changes where the
    files come from, not what they hold) and the sizes and modification times of the files the
    data is read from. Use it to key caches such as pretrained weights.

    Raises:
        ValueError: On an unknown name or option, or a bad option value.
    """
    spec = _spec(name)
    return _fingerprint(spec, resolve_options(name, dict(spec.options), options))


def _fingerprint(spec: DatasetSpec, options: dict[str, object]) -> str:
    """The fingerprint of ``spec`` with resolved ``options``."""
    payload = {
        "generator_version": synthetic.GENERATOR_VERSION,
        "name": spec.name,
        "family": spec.family,
        "builder": spec.build.__name__,
        "params": dict(spec.params),
    }
    if spec.options:  # datasets without options keep the fingerprints they always had
        payload["options"] = {k: v for k, v in options.items() if k != "download"}
        payload["files"] = files_fingerprint(spec.files(**options)) if spec.files else None
    blob = json.dumps(payload, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, options: tuple[tuple[str, object], ...], fingerprint: str) -> TaskData:
    """Build once per name, options and state of the files (``fingerprint``)."""
    spec = _spec(name)
    return spec.build(spec.name, spec.family, **dict(spec.params), **dict(options))


def load_dataset(name: str, **options: object) -> TaskData:
    """Load a registered dataset (bit-identical on every call with the same options and files).

    Args:
        name: A name from ``list_datasets()``.
        **options: Keys from ``dataset_options(name)``, e.g. ``root``, ``classes``,
            ``image_size``; omitted ones take their defaults.

    Returns:
        The task; its tensors are fresh copies the caller owns.

    Raises:
        ValueError: If ``name`` is not registered (the message lists valid and close names), an
            option is unknown or bad, or the data cannot be read (one line saying how to fix).
    """
    spec = _spec(name)
    resolved = resolve_options(name, dict(spec.options), options)
    data = _load_cached(name, tuple(resolved.items()), _fingerprint(spec, resolved))
    train, test = (ImageSet(s.images.clone(), s.labels.clone()) for s in (data.train, data.test))
    return TaskData(data.name, data.family, data.classes, train, test)


# ---------------------------------------------------------------- builders


def _synthetic_task(
    name: str,
    family: str,
    classes: tuple[GlyphClass, ...] | tuple[TextureClass, ...],
    seed: int,
    sizes: tuple[int, int],
    image_size: int,
) -> TaskData:
    """Generate the training pool (stream 0) and test split (stream 1) of synthetic classes."""
    train, test = (
        ImageSet(*synthetic.generate(classes, n, seed, stream=stream, image_size=image_size))
        for stream, n in enumerate(sizes)
    )
    names = tuple(f"{i:02d}_{c.name}" for i, c in enumerate(classes))
    return TaskData(name, family, names, train, test)


def build_glyphs(
    name: str,
    family: str,
    *,
    seed: int,
    n_classes: int,
    train_per_class: int,
    test_per_class: int,
    image_size: int,
    avoid_seed: int = -1,
    avoid_classes: int = 0,
) -> TaskData:
    """Glyph task; classes differ from the ``avoid_classes`` drawn with ``avoid_seed``."""
    avoid = sample_glyph_classes(avoid_classes, avoid_seed) if avoid_classes else ()
    classes = sample_glyph_classes(n_classes, seed, avoid=avoid)
    sizes = (train_per_class, test_per_class)
    return _synthetic_task(name, family, classes, seed, sizes, image_size)


def build_textures(
    name: str,
    family: str,
    *,
    seed: int,
    n_classes: int,
    train_per_class: int,
    test_per_class: int,
    image_size: int,
) -> TaskData:
    """Texture task with ``n_classes`` distinct periodic patterns."""
    classes = sample_texture_classes(n_classes, seed)
    sizes = (train_per_class, test_per_class)
    return _synthetic_task(name, family, classes, seed, sizes, image_size)


def build_digits(
    name: str, family: str, *, test_fraction: float, split_seed: int, image_size: int
) -> TaskData:
    """scikit-learn's 8x8 digits: 0..16 rescaled to uint8, bilinear-upsampled, 3 channels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    pixels = torch.from_numpy(digits.images.astype(np.float32) * (255.0 / 16.0))[:, None]
    pixels = torch.nn.functional.interpolate(
        pixels, size=(image_size, image_size), mode="bilinear", align_corners=False
    )
    images = pixels.round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    labels = torch.from_numpy(digits.target.astype(np.int64))
    train_idx, test_idx = (
        torch.from_numpy(np.sort(idx))
        for idx in train_test_split(
            np.arange(len(labels)),
            test_size=test_fraction,
            stratify=digits.target,
            random_state=split_seed,
        )
    )
    train = ImageSet(images[train_idx].contiguous(), labels[train_idx])
    test = ImageSet(images[test_idx].contiguous(), labels[test_idx])
    return TaskData(name, family, tuple(str(c) for c in digits.target_names), train, test)


_IMAGE_SIZE = 32
_SOURCE = {"seed": 0, "n_classes": 64}  # synth_near's classes must differ from these
register_dataset(
    "synth_source", "source", build_glyphs,
    **_SOURCE, train_per_class=300, test_per_class=50, image_size=_IMAGE_SIZE,
)  # fmt: skip
register_dataset(
    "synth_near", "near", build_glyphs,
    seed=1, n_classes=10, train_per_class=400, test_per_class=100, image_size=_IMAGE_SIZE,
    avoid_seed=_SOURCE["seed"], avoid_classes=_SOURCE["n_classes"],
)  # fmt: skip
register_dataset(
    "synth_far", "far", build_textures,
    seed=2, n_classes=10, train_per_class=400, test_per_class=100, image_size=_IMAGE_SIZE,
)  # fmt: skip
register_dataset(
    "digits", "far", build_digits, test_fraction=0.3, split_seed=0, image_size=_IMAGE_SIZE
)
