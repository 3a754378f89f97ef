"""Tests of report.guideline: the guideline data, the verdict rules and the cell comparison."""

import math

import pandas as pd
import pytest

from benchmarks.results.guideline_table import GUIDELINES, format_lr, guideline_for
from report.guideline import (
    AGREES,
    DISAGREES,
    INCONCLUSIVE,
    NOT_TESTED,
    compare_to_guideline,
    epochs_verdict,
    good_lr_range,
    lr_verdict,
)

SMALL, MID, LARGE = (guideline_for(r) for r in ("<1k", "1k-10k", ">10k"))


def test_guideline_table_matches_guidelines_md():
    rows = [(g.regime, g.strategy, g.lr_text, g.epochs_text) for g in GUIDELINES]
    assert rows == [
        ("<1k", "feature_extraction", "1e-4..1e-3", "30-50"),
        ("1k-10k", "partial_freeze", "1e-4..5e-4", "50-100"),
        (">10k", "full_finetune", "1e-5..1e-4", "100+"),
    ]
    assert guideline_for("tiny") is None
    assert format_lr(3.25e-5) == "3.2e-5"


@pytest.mark.parametrize(
    ("good", "n", "label"),
    [
        ((2e-4, 3e-3), 2, AGREES),
        ((1e-3, 1e-3), 2, AGREES),  # touching the upper bound counts as overlap
        ((5e-5, 1e-4), 3, AGREES),
        ((2e-3, 1e-2), 2, DISAGREES),
        ((1e-6, 5e-5), 4, DISAGREES),
        ((2e-4, 2e-4), 1, INCONCLUSIVE),  # one trial's LR is not a range
        (None, 0, INCONCLUSIVE),
    ],
)
def test_lr_verdict(good, n, label):
    assert lr_verdict(good, n, 5, SMALL, 0.01).label == label


def test_lr_verdict_says_which_side_and_how_many_trials_it_rests_on():
    assert lr_verdict((2e-3, 1e-2), 2, 4, SMALL, 0.01).reason == (
        "above 1e-4..1e-3; 2 of 4 trials within 1 point of the best")
    assert lr_verdict((2e-4, 2e-4), 1, 4, SMALL, 0.005).reason == (
        "1 of 4 trials within 0.5 points of the best")


@pytest.mark.parametrize(
    ("mean_epoch", "budget", "guide", "label", "reason"),
    [
        (6.3, 8, SMALL, NOT_TESTED, "budget 8 < 30"),
        (40.0, 60, SMALL, AGREES, ""),
        (12.0, 60, SMALL, DISAGREES, "12.0 outside 30-50"),
        (55.0, 60, SMALL, DISAGREES, "55.0 outside 30-50"),
        (150.0, 200, LARGE, AGREES, ""),
        (99.0, 200, LARGE, DISAGREES, "99.0 outside 100+"),
        (40.0, 99, LARGE, NOT_TESTED, "budget 99 < 100"),
        (75.0, 100, MID, AGREES, ""),
        (math.nan, 100, MID, INCONCLUSIVE, "no epoch data"),
    ],
)
def test_epochs_verdict(mean_epoch, budget, guide, label, reason):
    verdict = epochs_verdict(mean_epoch, budget, guide)
    assert (verdict.label, verdict.reason) == (label, reason)
    assert str(verdict) == (f"{label} ({reason})" if reason else label)


def test_good_lr_range_uses_the_margin_on_complete_trials():
    trials = pd.DataFrame({
        "status": ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED", "COMPLETE"],
        "lr": [1e-4, 3e-4, 1e-2, 5e-4, 2e-3],
        "val_acc": [0.80, 0.79, 0.50, 0.95, 0.781],
    })
    assert good_lr_range(trials, 0.02) == ((1e-4, 2e-3), 3, 4)
    assert good_lr_range(trials, 0.005) == ((1e-4, 1e-4), 1, 4)
    assert good_lr_range(trials.iloc[:0]) == (None, 0, 0)


def _final(rows):
    columns = ["dataset", "backbone", "regime", "n_train", "strategy", "seed", "test_acc",
               "best_epoch", "max_epochs"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(val_acc=frame["test_acc"])  # validation ranks as test here


def _trials(rows):
    return pd.DataFrame(rows, columns=["dataset", "backbone", "n_train", "strategy", "status",
                                       "lr", "val_acc"])


def test_compare_to_guideline_picks_largest_size_and_tests_pairs():
    accs = {"feature_extraction": [0.60, 0.62, 0.61], "full_finetune": [0.70, 0.73, 0.71]}
    rows = [("d", "b", "<1k", 100, s, seed, a, 5, 8)
            for s, values in accs.items() for seed, a in enumerate(values)]
    rows += [("d", "b", "<1k", 50, "feature_extraction", 0, 0.9, 3, 8),
             ("d", "b", "odd", 5, "feature_extraction", 0, 0.9, 3, 8)]
    trials = _trials([("d", "b", 100, "full_finetune", "COMPLETE", lr, acc)
                      for lr, acc in [(1e-5, 0.5), (1e-4, 0.7), (2e-3, 0.69), (1e-2, 0.3)]])
    table = compare_to_guideline(trials, _final(rows))
    assert len(table) == 1
    row = table.iloc[0]
    assert (row.n_train, row.sizes_in_regime, row.best_strategy) == (100, 2, "full_finetune")
    assert row.best_mean == pytest.approx(0.71333, abs=1e-4)
    assert row.n_paired == 3 and row.p_value < 0.05 and row.p_holm == row.p_value
    assert row.diff_mean == pytest.approx(-0.10333, abs=1e-4) and row.diff_high < -0.01
    assert row.strategy_verdict == DISAGREES
    assert (row.good_lr_min, row.good_lr_max, row.lr_verdict) == (1e-4, 2e-3, AGREES)
    assert (row.n_good_trials, row.n_complete_trials) == (2, 4)
    assert (row.mean_best_epoch, row.max_epochs, row.epochs_verdict) == (5.0, 8, NOT_TESTED)


def test_compare_to_guideline_guideline_not_run():
    rows = [("d", "b", "1k-10k", 2000, "full_finetune", seed, 0.8, 60, 100) for seed in range(2)]
    table = compare_to_guideline(_trials([]), _final(rows))
    row = table.iloc[0]
    assert (row.strategy_verdict, row.strategy_reason) == (INCONCLUSIVE, "partial_freeze not run")
    assert math.isnan(row.guideline_mean) and row.guideline_n_seeds == 0
    assert (row.lr_verdict, row.epochs_verdict) == (INCONCLUSIVE, AGREES)
