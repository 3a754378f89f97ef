"""Confidence intervals and paired tests over seeds, robust to tiny samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

PAIRED_TEST_NAME = "paired t-test (scipy.stats.ttest_rel)"
ACCURACY_BOUNDS = (0.0, 1.0)
"""The range an accuracy can take; intervals of accuracies are clipped to it."""


@dataclass(frozen=True)
class Interval:
    """A mean with a two-sided Student-t confidence interval.

    Attributes:
        mean: Sample mean (NaN when there are no values).
        low: Lower bound; equals ``mean`` when fewer than 2 values or zero spread.
        high: Upper bound; equals ``mean`` when fewer than 2 values or zero spread.
        n: Number of finite values used.
    """

    mean: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class PairedTest:
    """Result of a paired t-test.

    Attributes:
        statistic: The t statistic (NaN when fewer than 2 pairs).
        p_value: Two-sided p-value (NaN when fewer than 2 pairs).
        n_pairs: Number of complete pairs compared.
    """

    statistic: float
    p_value: float
    n_pairs: int


def _finite(values: Sequence[float] | pd.Series | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]


def t_interval(
    values: Sequence[float] | pd.Series | np.ndarray,
    confidence: float = 0.95,
    bounds: tuple[float, float] | None = None,
) -> Interval:
    """Mean and Student-t confidence interval of ``values``, ignoring NaNs.

    A single value (or values with zero spread) gives the degenerate interval
    ``[mean, mean]`` rather than NaN bounds, so one-seed runs still report.

    Args:
        values: Per-seed measurements.
        confidence: Two-sided coverage, in (0, 1).
        bounds: The range the quantity can take (e.g. :data:`ACCURACY_BOUNDS`); the
            interval is clipped to it. With 3 seeds and a large spread, a t-interval of an
            accuracy can otherwise reach below 0 or above 1.

    Returns:
        The interval; all NaN with ``n == 0`` when no finite values are given.

    Raises:
        ValueError: If ``confidence`` is outside (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(
            f"confidence: 0 < confidence < 1 must hold, but got {confidence}. "
            "Pass e.g. 0.95 for a 95% interval."
        )
    data = _finite(values)
    n = int(data.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(data.mean())
    sem = float(stats.sem(data)) if n > 1 else 0.0
    if n < 2 or sem == 0.0:
        return Interval(mean, mean, mean, n)
    low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=sem)
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Interval(mean, float(low), float(high), n)


def paired_ttest(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> PairedTest:
    """Two-sided paired t-test of ``a`` against ``b`` (pairs with a NaN are dropped).

    Zero spread of the differences is handled without scipy's precision warning:
    all-zero differences give p = 1, a constant non-zero difference gives p = 0.

    Args:
        a: First measurement of each pair.
        b: Second measurement of each pair, aligned with ``a``.

    Returns:
        The test result; NaN statistic and p-value when fewer than 2 pairs.

    Raises:
        ValueError: If ``a`` and ``b`` differ in length.
    """
    left, right = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if left.shape != right.shape:
        raise ValueError(
            f"paired_ttest: len(a) == len(b) must hold, but got {left.size} and {right.size}. "
            "Align the samples on a shared key (e.g. seed) first."
        )
    keep = np.isfinite(left) & np.isfinite(right)
    diff = left[keep] - right[keep]
    n = int(diff.size)
    if n < 2:
        return PairedTest(math.nan, math.nan, n)
    if np.allclose(diff, diff[0], rtol=0.0, atol=1e-12):
        if abs(diff[0]) <= 1e-12:
            return PairedTest(0.0, 1.0, n)
        return PairedTest(math.copysign(math.inf, diff[0]), 0.0, n)
    result = stats.ttest_rel(left[keep], right[keep])
    return PairedTest(float(result.statistic), float(result.pvalue), n)


def paired_by_key(a: pd.Series, b: pd.Series) -> PairedTest:
    """Paired t-test of two series aligned on their index (e.g. seed).

    Args:
        a: Values indexed by pairing key.
        b: Values indexed by pairing key; only keys present in both are used.

    Returns:
        The paired test over shared keys.
    """
    shared = a.index.intersection(b.index)
    return paired_ttest(a.loc[shared].to_numpy(), b.loc[shared].to_numpy())
