"""Assembling ``TaskData`` from undecoded samples: test splits, class selection, decoding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from benchmarks.data._images import decode_files, from_array
from benchmarks.data.options import class_indices
from benchmarks.data.registry import ImageSet, TaskData


@dataclass(frozen=True)
class Samples:
    """Labels of one split with their images, not yet decoded: files or a uint8 array."""

    labels: np.ndarray  # int64, (N,)
    paths: tuple[str, ...] = ()
    array: np.ndarray | None = field(default=None, repr=False)  # (N, H, W[, C]) uint8

    def take(self, positions: np.ndarray) -> Samples:
        """The samples at ``positions``, in that order."""
        paths = tuple(self.paths[i] for i in positions) if self.paths else ()
        array = None if self.array is None else self.array[positions]
        return Samples(self.labels[positions], paths, array)


def concat(parts: Sequence[Samples]) -> Samples:
    """The samples of ``parts`` one after the other (all files, or all arrays)."""
    labels = np.concatenate([p.labels for p in parts]).astype(np.int64)
    if parts[0].array is None:
        return Samples(labels, tuple(path for p in parts for path in p.paths))
    return Samples(labels, array=np.concatenate([p.array for p in parts]))


def stratified_split(
    name: str, pool: Samples, class_names: Sequence[str], test_fraction: float, seed: int
) -> tuple[Samples, Samples]:
    """Seeded split of ``pool`` into (train, test), per class ``round(test_fraction * n)``.

    Each class keeps at least one image on either side; the split of one class does not
    depend on the other classes.

    Raises:
        ValueError: If a class has fewer than two images.
    """
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(pool.labels), dtype=bool)
    for label in np.unique(pool.labels):
        members = np.flatnonzero(pool.labels == label)
        if len(members) < 2:
            raise ValueError(
                f"Dataset '{name}': at least 2 images per class must hold for a train/test "
                f"split, but got {len(members)} in class '{class_names[label]}'. Add images, "
                f"or give separate train/ and test/ folders."
            )
        n_test = min(max(round(test_fraction * len(members)), 1), len(members) - 1)
        is_test[rng.permutation(members)[:n_test]] = True
    return pool.take(np.flatnonzero(~is_test)), pool.take(np.flatnonzero(is_test))


def assemble_task(
    name: str,
    family: str,
    class_names: Sequence[str],
    splits: tuple[Samples, Samples],
    classes: Sequence[int | str] | None,
    image_size: int | None,
) -> TaskData:
    """Keep the ``classes`` asked for, relabel them ``0..k-1`` and decode everything once.

    Args:
        name: Dataset name.
        family: Dataset family.
        class_names: Names of the labels of ``splits``.
        splits: The training pool and the test split.
        classes: Class indices or names to keep, in the new label order; ``None``: all.
        image_size: Resize every image to this square size; ``None``: native size.
    """
    keep = class_indices(name, class_names, classes)
    train, test = (_select(split, keep, len(class_names)) for split in splits)
    both = concat([train, test])
    if both.array is None:
        images = decode_files(name, both.paths, image_size)
    else:
        images = from_array(both.array, image_size)
    n = len(train.labels)
    return TaskData(
        name,
        family,
        tuple(class_names[i] for i in keep),
        ImageSet(images[:n].contiguous(), torch.from_numpy(train.labels)),
        ImageSet(images[n:].contiguous(), torch.from_numpy(test.labels)),
    )


def _select(samples: Samples, keep: list[int], n_classes: int) -> Samples:
    """The samples of the ``keep`` classes, relabelled by their position in ``keep``."""
    labels = samples.labels.astype(np.int64)
    if keep == list(range(n_classes)):
        return Samples(labels, samples.paths, samples.array)
    new_label = np.full(n_classes, -1, dtype=np.int64)
    new_label[keep] = np.arange(len(keep))
    positions = np.flatnonzero(new_label[labels] >= 0)
    picked = samples.take(positions)
    return Samples(new_label[labels[positions]], picked.paths, picked.array)
