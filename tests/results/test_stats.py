"""Tests of benchmarks.results.stats: t-intervals and paired tests over seeds."""

import math

import numpy as np
import pytest
from scipy import stats

from benchmarks.results.stats import ACCURACY_BOUNDS, paired_by_key, paired_ttest, t_interval


def test_t_interval_matches_scipy():
    values = [0.90, 0.92, 0.91, 0.95]
    interval = t_interval(values)
    low, high = stats.t.interval(0.95, 3, loc=np.mean(values), scale=stats.sem(values))
    assert interval.mean == pytest.approx(0.92)
    assert (interval.low, interval.high) == pytest.approx((low, high))
    assert interval.n == 4


def test_t_interval_other_confidence_is_narrower():
    values = [0.1, 0.3, 0.2]
    assert t_interval(values, 0.8).high < t_interval(values, 0.95).high


@pytest.mark.parametrize("values", [[0.7], [0.7, float("nan")], [0.7, 0.7, 0.7]])
def test_t_interval_degenerate(values):
    interval = t_interval(values)
    assert (interval.mean, interval.low, interval.high) == pytest.approx((0.7, 0.7, 0.7))


def test_t_interval_of_accuracies_is_clipped_to_zero_one():
    seeds = [0.10, 0.20, 0.78]  # the digits/from_scratch/50-image cell of the fashion suite
    raw = t_interval(seeds)
    clipped = t_interval(seeds, bounds=ACCURACY_BOUNDS)
    assert raw.low < 0 and raw.high > 1  # what the unclipped interval said
    assert (clipped.low, clipped.high) == (0.0, 1.0)
    assert clipped.mean == pytest.approx(raw.mean)
    narrow = t_interval([0.80, 0.82, 0.84], bounds=ACCURACY_BOUNDS)
    assert (narrow.low, narrow.high) == pytest.approx(
        (t_interval([0.80, 0.82, 0.84]).low, t_interval([0.80, 0.82, 0.84]).high))


def test_t_interval_empty_is_nan():
    interval = t_interval([])
    assert interval.n == 0 and math.isnan(interval.mean)


def test_t_interval_rejects_bad_confidence():
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], confidence=95)


def test_paired_ttest_matches_scipy():
    a, b = [0.90, 0.85, 0.88, 0.91], [0.80, 0.84, 0.82, 0.86]
    result = paired_ttest(a, b)
    expected = stats.ttest_rel(a, b)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.n_pairs == 4


@pytest.mark.parametrize(
    ("a", "b", "p", "n"),
    [([0.5], [0.4], math.nan, 1), ([0.5, 0.6], [0.5, 0.6], 1.0, 2),
     ([0.5, 0.6], [0.4, 0.5], 0.0, 2)],
)
def test_paired_ttest_edge_cases(a, b, p, n):
    result = paired_ttest(a, b)
    assert result.n_pairs == n
    assert (math.isnan(result.p_value) and math.isnan(p)) or result.p_value == pytest.approx(p)


def test_paired_by_key_uses_shared_seeds_only():
    import pandas as pd

    a = pd.Series([0.9, 0.8, 0.85, 0.7], index=[0, 1, 2, 3])
    b = pd.Series([0.6, 0.75, 0.8], index=[1, 2, 3])
    assert paired_by_key(a, b).n_pairs == 3
    assert paired_by_key(a, b).p_value == pytest.approx(stats.ttest_rel([0.8, 0.85, 0.7],
                                                                        [0.6, 0.75, 0.8]).pvalue)


def test_paired_ttest_rejects_misaligned():
    with pytest.raises(ValueError, match="len"):
        paired_ttest([1.0, 2.0], [1.0])
