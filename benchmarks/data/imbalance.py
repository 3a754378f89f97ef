"""A dataset made imbalanced on purpose (a suite's ``long_tail: R`` on a dataset entry): the
training pool keeps a long-tailed share of each class, so that the effect of the loss
(``train.loss``) on rare classes can be measured. The test split is left as it is.

Class ``c`` of ``k`` keeps ``round(m * R ** (-c / (k - 1)))`` of its images (at least one),
``m`` being the smallest class's count: class 0 keeps ``m``, the last ``m / R``. The images
are drawn without replacement with a fixed seed, so a suite reads the same pool every time.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from benchmarks.data.registry import ImageSet, TaskData

SEED = 0
"""The seed of the draw (the pool is part of the data: the fingerprint hashes it)."""


def long_tail_counts(counts: list[int], ratio: float) -> list[int]:
    """How many training images each class keeps (classes in index order)."""
    k, m = len(counts), min(counts)
    if k < 2 or ratio <= 1:
        return list(counts)
    return [max(1, round(m * ratio ** (-c / (k - 1)))) for c in range(k)]


def long_tail(task: TaskData, ratio: float) -> TaskData:
    """``task`` with its training pool cut to a long tail of largest/smallest ``ratio``."""
    labels = task.train.labels.numpy()
    counts = np.bincount(labels, minlength=len(task.classes)).tolist()
    keep_counts = long_tail_counts(counts, ratio)
    rng = np.random.default_rng(SEED)
    keep = np.sort(np.concatenate([
        rng.choice(np.flatnonzero(labels == c), size=n, replace=False)
        for c, n in enumerate(keep_counts)]))
    index = torch.as_tensor(keep)
    pool = ImageSet(task.train.images[index].contiguous(), task.train.labels[index])
    return dataclasses.replace(task, train=pool)
