"""Training-set sizes as suites write them: counts, per-class counts, pool fractions or "all".

A size specification resolves to a number of training samples ``n`` for one pool; the split
itself is always made by :func:`benchmarks.data.make_splits`, so every form is stratified (by
largest-remainder rounding, at least one sample per class), nested and paired with a disjoint
validation split in the same way. The accepted forms:

* ``500`` (or ``"500"``, ``{count: 500}``): ``n = 500``.
* ``"10/class"`` (or ``{per_class: 10}``): ``n = 10 * n_classes``. On an imbalanced pool this
  is *not* 10 samples from every class: the ``n`` samples are stratified like every other size,
  so each class gets a share proportional to its pool count and the pool's class ratios are
  kept. The per-class form only scales the budget with the number of classes.
* ``"15%"`` or ``0.15`` (or ``{fraction: 0.15}``): ``n = round(0.15 * largest)`` (half up),
  where ``largest`` is the largest training size whose validation split still fits in the pool
  (:func:`benchmarks.data.largest_training_size`). This is TLlib's 15/30/50/100% protocol;
  ``"100%"`` and ``1.0`` mean ``largest``.
* ``"all"``: ``n = largest``, stated explicitly (same size as ``"100%"``, its own label).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import numpy as np
import torch

from benchmarks.data.splits import _as_labels, largest_training_size

Kind = Literal["count", "per_class", "fraction", "all"]
_FORMS = "500, '500', '10/class', {per_class: 10}, '15%', 0.15, {fraction: 0.15} or 'all'"
_PER_CLASS = re.compile(r"(\d+)\s*/\s*(\w+)")
_PERCENT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*%")


def _invalid(value: object, condition: str, fix: str = f"Write one of {_FORMS}") -> ValueError:
    """The ``ValueError`` for a size specification that does not parse."""
    return ValueError(f"Training size '{value}': {condition} must hold, but got {value!r}. {fix}.")


@dataclass(frozen=True)
class SizeSpec:
    """One training-set size as a suite states it; hashable, so it can key results.

    Attributes:
        kind: ``"count"``, ``"per_class"``, ``"fraction"`` or ``"all"``.
        value: The count, the per-class count, the fraction in ``(0, 1]``, or 1.0 for ``all``.
    """

    kind: Kind
    value: float

    @classmethod
    def parse(cls, value: object) -> SizeSpec:
        """The specification written as ``value`` (any form in the module docstring).

        Raises:
            ValueError: If ``value`` is not one of the forms, or is zero, negative or > 100%.
        """
        if isinstance(value, SizeSpec):
            return value
        if isinstance(value, Mapping):
            return _parse_mapping(value)
        if isinstance(value, str):
            return _parse_text(value)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise _invalid(value, "a number, a string or a one-key mapping")
        if isinstance(value, (int, np.integer)):
            return _count("count", value, value)
        return _fraction(value, float(value))

    @property
    def label(self) -> str:
        """Short name for reports: ``"500"``, ``"10/class"``, ``"15%"`` or ``"all"``."""
        if self.kind == "count":
            return str(int(self.value))
        if self.kind == "per_class":
            return f"{int(self.value)}/class"
        if self.kind == "fraction":
            return f"{round(self.value * 100, 6):g}%"
        return "all"

    def to_yaml(self) -> int | str:
        """The form a suite file writes: an integer count, else the label (``"15%"``, ...)."""
        return int(self.value) if self.kind == "count" else self.label

    def resolve(self, labels: np.ndarray | torch.Tensor, val_fraction: float = 0.2) -> int:
        """The number of training samples this specification means for the pool ``labels``.

        Args:
            labels: Labels of the pool (``TaskData.train.labels``).
            val_fraction: Validation size as a fraction of the training size.

        Raises:
            ValueError: If the size is below the number of classes or above the largest
                training size whose validation split fits in the pool.
        """
        y = _as_labels(labels)
        n_classes = len(np.unique(y))
        largest = largest_training_size(labels, val_fraction)
        if self.kind == "count":
            n = int(self.value)
        elif self.kind == "per_class":
            n = int(self.value) * n_classes
        else:
            n = math.floor(self.value * largest + 0.5)
        _check_resolved(self, n, (len(y), n_classes), largest, val_fraction)
        return n


def _check_resolved(
    spec: SizeSpec, n: int, pool_classes: tuple[int, int], largest: int, val: float
) -> None:
    """Raise ``ValueError`` when ``n`` cannot be split from a pool of ``(samples, classes)``."""
    pool, n_classes = pool_classes
    if largest == 0:
        raise ValueError(
            f"Training size '{spec.label}': a pool of at least 2 * n_classes = {2 * n_classes} "
            f"samples (one to train and one to validate per class) must hold, but got {pool} "
            f"for {n_classes} classes. Add samples, or keep fewer classes."
        )
    if n > largest:
        raise ValueError(
            f"Training size '{spec.label}': size <= {largest} (the largest possible size with "
            f"val_fraction {val}) must hold, but got {n}. Use 'all' for the largest size, or a "
            f"smaller one."
        )
    if n < n_classes:
        raise ValueError(
            f"Training size '{spec.label}': size >= n_classes (one training sample per class) "
            f"must hold, but got {n}, below the {n_classes} classes. Use a size between "
            f"{n_classes} and {largest}."
        )


def _count(kind: Kind, written: object, value: object) -> SizeSpec:
    """A ``count`` or ``per_class`` specification; ``value`` must be a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise _invalid(written, "a positive integer count")
    return SizeSpec(kind, int(value))


def _fraction(written: object, value: float) -> SizeSpec:
    """A ``fraction`` specification; ``value`` must lie in ``(0, 1]``."""
    if not 0.0 < value <= 1.0:
        raise _invalid(
            written, "0 < fraction <= 1 (at most 100%)",
            "Write a fraction such as 0.15 or '15%', an integer count such as 500, or 'all'",
        )  # fmt: skip
    return SizeSpec("fraction", value)


def _parse_text(text: str) -> SizeSpec:
    """Parse ``"500"``, ``"10/class"``, ``"15%"`` or ``"all"`` (case and spaces ignored)."""
    clean = text.strip().lower()
    if clean == "all":
        return SizeSpec("all", 1.0)
    if clean.isdigit():
        return _count("count", text, int(clean))
    if match := _PER_CLASS.fullmatch(clean):
        if match[2] != "class":
            raise _invalid(text, "the form '<count>/class'", f"Write '{match[1]}/class'")
        return _count("per_class", text, int(match[1]))
    if match := _PERCENT.fullmatch(clean):
        try:
            return _fraction(text, float(Decimal(match[1]) / 100))
        except InvalidOperation as error:
            raise _invalid(text, "a decimal percentage") from error
    raise _invalid(text, "a known size form")


def _parse_mapping(mapping: Mapping) -> SizeSpec:
    """Parse ``{count: 500}``, ``{per_class: 10}`` or ``{fraction: 0.15}``."""
    keys = ("count", "per_class", "fraction")
    if len(mapping) != 1 or next(iter(mapping)) not in keys:
        raise _invalid(dict(mapping), f"exactly one key among {list(keys)}")
    key, value = next(iter(mapping.items()))
    if key == "fraction":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _invalid(dict(mapping), "a numeric fraction")
        return _fraction(dict(mapping), float(value))
    return _count(key, dict(mapping), value)


def resolve_sizes(
    specs: Iterable[object], labels: np.ndarray | torch.Tensor, val_fraction: float = 0.2
) -> dict[SizeSpec, int]:
    """Parse and resolve several size specifications for one pool.

    Args:
        specs: Specifications in any accepted form (or ``SizeSpec``); equal ones are merged.
        labels: Labels of the pool (``TaskData.train.labels``).
        val_fraction: Validation size as a fraction of the training size.

    Returns:
        ``{spec: n}`` in increasing ``n`` (ties in the order given); pass ``values()`` to
        :func:`benchmarks.data.make_splits` with the same ``val_fraction``.

    Raises:
        ValueError: If a specification does not parse or does not fit the pool.
    """
    if isinstance(specs, (str, Mapping)) or not isinstance(specs, Iterable):
        raise _invalid(specs, "a list of sizes", "Write a list such as ['15%', 'all']")
    parsed = dict.fromkeys(SizeSpec.parse(spec) for spec in specs)
    if not parsed:
        raise _invalid([], "at least one size", "Write e.g. ['15%', 'all']")
    resolved = {spec: spec.resolve(labels, val_fraction) for spec in parsed}
    return dict(sorted(resolved.items(), key=lambda item: item[1]))
