"""Dataset registry: maps dataset names to offline, deterministic loaders of ``TaskData``.

Built-in offline datasets (``synth_source``, ``synth_near``, ``synth_far``, ``digits``)
register in ``benchmarks.data.builtin``. Real datasets (``cifar10``, ``fashion_mnist``,
``imagefolder``, ...) register in ``benchmarks.data.tv`` and ``benchmarks.data.imagefolder``
and take options, e.g.
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

import torch

from benchmarks.data import synthetic
from benchmarks.data._files import files_fingerprint
from benchmarks.data.options import resolve_options, shown_defaults
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
    """Build once per name, options and state of the files (``fingerprint``); every dataset
    passes here, so that a task with fewer than 2 classes is refused for all of them."""
    spec = _spec(name)
    task = spec.build(spec.name, spec.family, **dict(spec.params), **dict(options))
    if len(task.classes) < 2:
        shown = ", ".join(repr(c) for c in task.classes)
        raise ValueError(
            f"Dataset '{name}': at least 2 classes must hold, but got {len(task.classes)} "
            f"(only {shown}). Add another class folder, or list 2 or more in 'classes'."
        )
    return task


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
            option is unknown or bad, the data cannot be read, or it has fewer than 2 classes
            (one line saying how to fix).
    """
    spec = _spec(name)
    resolved = resolve_options(name, dict(spec.options), options)
    data = _load_cached(name, tuple(resolved.items()), _fingerprint(spec, resolved))
    train, test = (ImageSet(s.images.clone(), s.labels.clone()) for s in (data.train, data.test))
    return TaskData(data.name, data.family, data.classes, train, test)
