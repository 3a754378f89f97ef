"""Stratified, nested training subsets with a disjoint validation split, drawn from one pool.

Every class's pool indices are shuffled once with the seed. Training samples are taken from the
front of that order and validation samples from the back, so for each size ``n``:

* the training subset has exactly ``n`` samples, stratified by largest-remainder rounding (at
  least one per class) and nested: the subset for a smaller size lies inside a larger one's;
* the validation subset has ``max(round(val_fraction * n), n_classes)`` samples, stratified and
  nested the same way, and disjoint from every training subset of the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Split:
    """Indices into ``TaskData.train`` for one training-set size."""

    train_idx: np.ndarray
    val_idx: np.ndarray


def validation_size(n: int, n_classes: int, val_fraction: float) -> int:
    """Validation samples that go with ``n`` training samples."""
    return max(round(val_fraction * n), n_classes)


def _as_labels(labels: np.ndarray | torch.Tensor) -> np.ndarray:
    """Labels as a 1-D int64 array; raises ``ValueError`` on other shapes or dtypes."""
    array = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"Labels 'labels': a non-empty 1-D integer array must hold, but got shape "
            f"{array.shape} and dtype {array.dtype}. Pass TaskData.train.labels."
        )
    return array.astype(np.int64)


def _largest_size(pool: int, n_classes: int, val_fraction: float) -> int:
    """Largest training size whose validation split still fits in the pool (0 if none)."""
    sizes = np.arange(n_classes, pool + 1)
    fits = sizes[sizes + np.maximum(np.round(val_fraction * sizes), n_classes) <= pool]
    return int(fits[-1]) if fits.size else 0


def _check_val_fraction(val_fraction: float) -> None:
    """Raise ``ValueError`` unless ``0 <= val_fraction < 1``."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(
            f"Validation fraction 'val_fraction': 0 <= val_fraction < 1 must hold, but got "
            f"{val_fraction}. Use e.g. 0.2."
        )


def largest_training_size(labels: np.ndarray | torch.Tensor, val_fraction: float = 0.2) -> int:
    """Largest training size of a pool whose validation split still fits beside it.

    Args:
        labels: Labels of the pool (``TaskData.train.labels``).
        val_fraction: Validation size as a fraction of the training size.

    Returns:
        The largest ``n`` with ``n + validation_size(n) <= len(labels)``; 0 if even
        ``n = n_classes`` does not fit.
    """
    y = _as_labels(labels)
    _check_val_fraction(val_fraction)
    return _largest_size(len(y), len(np.unique(y)), val_fraction)


def _check_sizes(sizes: Sequence[int], pool: int, n_classes: int, val_fraction: float) -> None:
    """Raise ``ValueError`` for a size that no split of this pool can satisfy."""
    if len(sizes) == 0:
        raise ValueError(
            "Training sizes 'sizes': at least one size must hold, but got none. Pass e.g. [50]."
        )
    largest = _largest_size(pool, n_classes, val_fraction)
    fix = f"Choose a size between {n_classes} and {largest}" if largest else "Use a larger pool"
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(
                f"Training size '{n}': a positive integer must hold, but got {n!r}. {fix}."
            )
        if n < n_classes:
            raise ValueError(
                f"Training size '{n}': size >= n_classes (one training sample per class) must "
                f"hold, but got {n}, below the {n_classes} classes. {fix}."
            )
        n_val = validation_size(int(n), n_classes, val_fraction)
        if n + n_val > pool:
            raise ValueError(
                f"Training size '{n}': size + validation <= pool must hold, but got {n} + "
                f"{n_val} > {pool} available. {fix}."
            )


def _apportion(
    counts: np.ndarray, n: int, floor: np.ndarray, cap: np.ndarray, order: np.ndarray
) -> np.ndarray:
    """Largest-remainder quotas of ``n`` proportional to ``counts``, within ``[floor, cap]``.

    ``floor`` carries nesting (the quotas of the next smaller size) and the one-per-class
    minimum; ``cap`` is what each class can supply. Ties break in the seeded class ``order``.

    Returns:
        Per-class quotas summing to ``n``, or to less when the caps make ``n`` impossible.
    """
    target = counts * n / counts.sum()
    quota = np.maximum(np.floor(target).astype(np.int64), floor)
    while quota.sum() > n:  # floors pushed past n: take back from the most over-served class
        free = np.flatnonzero(quota > floor)
        quota[free[np.argmax((quota - target)[free])]] -= 1
    while quota.sum() < n:
        ranked = order[np.argsort(-(target - quota)[order], kind="stable")]
        open_ = ranked[quota[ranked] < cap[ranked]]
        if open_.size == 0:
            break
        quota[open_[: n - quota.sum()]] += 1
    return quota


def _nested_quotas(
    what: str,
    classes: list[str],
    counts: np.ndarray,
    sizes: list[int],
    cap: np.ndarray,
    order: np.ndarray,
) -> list[np.ndarray]:
    """Quotas for increasing ``sizes``, each at least the previous (so subsets nest);
    ``classes`` names the classes in messages.

    Raises:
        ValueError: If a class cannot supply its share of some size.
    """
    quotas, floor = [], np.ones_like(counts)
    for n in sizes:
        floor = _apportion(counts, n, floor, cap, order)
        if floor.sum() != n or np.any(floor > cap):
            short = int(np.argmax(floor - cap))
            available = ", ".join(f"{c} {max(int(k), 0)}" for c, k in zip(classes, cap))
            raise ValueError(
                f"{what} size '{n}': every class supplying its stratified share must hold, but "
                f"got class {classes[short]} with {max(int(cap[short]), 0)} available for a share "
                f"of {int(floor[short])} (available per class: {available}). Add samples of "
                f"class {classes[short]}, choose a smaller size or a lower val_fraction."
            )
        quotas.append(floor)
    return quotas


def make_splits(
    labels: np.ndarray | torch.Tensor,
    sizes: Sequence[int],
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> dict[int, Split]:
    """Stratified nested training subsets and disjoint validation subsets of a pool.

    Args:
        labels: Labels of the pool (``TaskData.train.labels``).
        sizes: Training sizes, in any order; duplicates are ignored.
        val_fraction: Validation size as a fraction of each training size (at least one
            sample per class).
        seed: Seed of the per-class shuffles; the same seed always gives the same splits.
        class_names: The name of each label (``TaskData.classes``), for messages; without
            them a message names a class by its label.

    Returns:
        ``{n: Split}`` in increasing ``n``; indices are sorted int64 arrays.

    Raises:
        ValueError: If a size is not positive, is below the number of classes, needs more
            samples than the pool holds, or a class is too small to supply its share.
    """
    y = _as_labels(labels)
    _check_val_fraction(val_fraction)
    classes, counts = np.unique(y, return_counts=True)
    _check_sizes(sizes, len(y), len(classes), val_fraction)
    ordered = sorted({int(n) for n in sizes})
    rng = np.random.default_rng(seed)
    members = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    order = rng.permutation(len(classes))
    val_sizes = [validation_size(n, len(classes), val_fraction) for n in ordered]
    shown = [repr(class_names[c]) if class_names else str(c) for c in classes]
    val_quotas = _nested_quotas("Validation", shown, counts, val_sizes, counts, order)
    train_cap = counts - val_quotas[-1]
    train_quotas = _nested_quotas("Training", shown, counts, ordered, train_cap, order)
    splits = {}
    for n, train_quota, val_quota in zip(ordered, train_quotas, val_quotas):
        train = [m[:q] for m, q in zip(members, train_quota)]
        val = [m[len(m) - q :] for m, q in zip(members, val_quota)]
        splits[n] = Split(np.sort(np.concatenate(train)), np.sort(np.concatenate(val)))
    return splits
