"""The verdict rule: best on validation, judged on test against a margin, with intervals."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from benchmarks.results.verdicts import (
    AGREES,
    DISAGREES,
    INCONCLUSIVE,
    best_on_validation,
    difference,
    holm,
    judge,
    points_text,
    seeds_to_resolve,
)


def _seeds(*values):
    return pd.Series(values, index=range(len(values)), dtype=float)


def test_the_difference_is_paired_by_seed_with_a_student_t_interval():
    claim, best = _seeds(0.80, 0.82, 0.79, math.nan), _seeds(0.81, 0.85, 0.80, 0.9)
    diff = difference(claim, best)
    diffs = [-0.01, -0.03, -0.01]
    half = stats.t.ppf(0.975, 2) * stats.tstd(diffs) / math.sqrt(3)
    assert diff.n == 3 and diff.mean == pytest.approx(-0.05 / 3)
    assert (diff.low, diff.high) == pytest.approx((-0.05 / 3 - half, -0.05 / 3 + half))
    assert diff.effect == pytest.approx((-0.05 / 3) / stats.tstd(diffs))
    assert diff.p_value == pytest.approx(stats.ttest_rel([0.80, 0.82, 0.79],
                                                         [0.81, 0.85, 0.80]).pvalue)


@pytest.mark.parametrize(("claim", "best", "label", "part"), [
    ((0.900, 0.905, 0.902), (0.903, 0.906, 0.904), AGREES, "all above -1"),
    ((0.80, 0.81, 0.79), (0.90, 0.91, 0.92), DISAGREES, "all below -1"),
    ((0.82, 0.85, 0.83), (0.83, 0.84, 0.84), INCONCLUSIVE, "about 15 seeds would resolve it"),
])
def test_the_interval_against_the_margin_decides(claim, best, label, part):
    verdict = judge("feature_extraction", "full_finetune", True,
                    difference(_seeds(*claim), _seeds(*best)), 0.01)
    assert verdict.label == label and part in verdict.reason


def test_a_non_significant_gap_is_not_agreement_when_it_may_exceed_the_margin():
    """The old rule called p >= 0.05 agreement; an interval reaching -5 points is not."""
    claim, best = _seeds(0.80, 0.86, 0.83), _seeds(0.84, 0.85, 0.86)
    diff = difference(claim, best)
    assert diff.p_value > 0.05 and diff.low < -0.05
    assert judge("a", "b", True, diff, 0.01).label == INCONCLUSIVE


def test_the_claim_that_is_best_on_validation_agrees_and_one_not_run_is_inconclusive():
    empty = difference(pd.Series(dtype=float), pd.Series(dtype=float))
    assert judge("a", "a", True, empty, 0.01).label == AGREES
    assert judge("a", "b", False, empty, 0.01).reason == "a not run"
    one = difference(_seeds(0.5), _seeds(0.6))
    assert judge("a", "b", True, one, 0.01).reason == "1 paired seed(s): no interval"


def test_seeds_to_resolve_grow_as_the_mean_nears_the_margin():
    best = _seeds(0.83, 0.84, 0.84)
    near = difference(_seeds(0.82, 0.85, 0.83), best)  # -0.3 points: 0.7 from the margin
    far = difference(_seeds(0.85, 0.88, 0.86), best)  # +2.7 points, the same spread
    assert seeds_to_resolve(near, 0.01) == 15
    assert 3 <= seeds_to_resolve(far, 0.01) < 15
    on_the_margin = difference(_seeds(0.80, 0.85, 0.83), best)  # -1.0 points
    assert seeds_to_resolve(on_the_margin, 0.01) is None


def test_holm_adjusts_step_down_and_keeps_nan():
    adjusted = holm([0.01, 0.04, math.nan, 0.03])
    assert adjusted[0] == pytest.approx(0.03) and adjusted[3] == pytest.approx(0.06)
    assert adjusted[1] == pytest.approx(0.06) and math.isnan(adjusted[2])
    assert holm([0.6, 0.9]) == [1.0, 1.0]


def test_the_best_is_chosen_on_validation_and_a_tie_goes_to_the_first_by_name():
    cell = pd.DataFrame({"strategy": ["b", "b", "a", "a", "c"],
                         "val_acc": [0.75, 0.25, 0.5, 0.5, 0.1],
                         "test_acc": [0.1, 0.1, 0.9, 0.9, 0.99]})
    assert best_on_validation(cell) == "a"  # 0.5 each: a tie with b, the first by name
    assert best_on_validation(cell.assign(val_acc=[0.75, 0.75, 0.5, 0.5, 0.1])) == "b"


def test_margins_read_as_points():
    assert points_text(0.01) == "1 point" and points_text(0.005) == "0.5 points"
