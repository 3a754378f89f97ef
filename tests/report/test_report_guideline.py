"""Tests of report.guideline: the guideline data, the verdict rules and the cell comparison."""

import math

import pandas as pd
import pytest

from report.guideline import (
    AGREES,
    DISAGREES,
    INCONCLUSIVE,
    NOT_TESTED,
    compare_to_guideline,
    epochs_verdict,
    good_lr_range,
    lr_verdict,
    strategy_verdict,
)
from report.guideline_table import GUIDELINES, format_lr, guideline_for

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
    ("best", "ran", "n", "p", "label", "reason_part"),
    [
        ("feature_extraction", True, 3, math.nan, AGREES, "is best"),
        ("full_finetune", True, 3, 0.20, AGREES, "p=0.2 >= 0.05"),
        ("full_finetune", True, 3, 0.05, AGREES, ">= 0.05"),
        ("full_finetune", True, 3, 0.01, DISAGREES, "p=0.01 < 0.05"),
        ("full_finetune", False, 0, math.nan, INCONCLUSIVE, "feature_extraction not run"),
        ("full_finetune", True, 1, math.nan, INCONCLUSIVE, "1 seed(s)"),
        ("feature_extraction", True, 1, math.nan, INCONCLUSIVE, "ranks best"),
    ],
)
def test_strategy_verdict(best, ran, n, p, label, reason_part):
    verdict = strategy_verdict("feature_extraction", best, ran, n, p)
    assert verdict.label == label
    assert reason_part in verdict.reason


@pytest.mark.parametrize(
    ("good", "n", "label"),
    [
        ((2e-4, 3e-3), 5, AGREES),
        ((1e-3, 1e-3), 5, AGREES),  # touching the upper bound counts as overlap
        ((5e-5, 1e-4), 5, AGREES),
        ((2e-3, 1e-2), 5, DISAGREES),
        ((1e-6, 5e-5), 5, DISAGREES),
        ((2e-4, 2e-4), 1, INCONCLUSIVE),
        (None, 0, INCONCLUSIVE),
    ],
)
def test_lr_verdict(good, n, label):
    assert lr_verdict(good, n, SMALL).label == label


def test_lr_verdict_says_which_side():
    assert lr_verdict((2e-3, 1e-2), 4, SMALL).reason == "above 1e-4..1e-3"


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


def test_good_lr_range_uses_tolerance_on_complete_trials():
    trials = pd.DataFrame({
        "status": ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED", "COMPLETE"],
        "lr": [1e-4, 3e-4, 1e-2, 5e-4, 2e-3],
        "val_acc": [0.80, 0.79, 0.50, 0.95, 0.781],
    })
    assert good_lr_range(trials) == ((1e-4, 2e-3), 4)
    assert good_lr_range(trials.iloc[:0]) == (None, 0)


def _final(rows):
    columns = ["dataset", "backbone", "regime", "n_train", "strategy", "seed", "test_acc",
               "best_epoch", "max_epochs"]
    return pd.DataFrame(rows, columns=columns)


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
    assert row.n_paired == 3 and row.p_value < 0.05
    assert row.strategy_verdict == DISAGREES
    assert (row.good_lr_min, row.good_lr_max, row.lr_verdict) == (1e-4, 2e-3, AGREES)
    assert (row.mean_best_epoch, row.max_epochs, row.epochs_verdict) == (5.0, 8, NOT_TESTED)


def test_compare_to_guideline_guideline_not_run():
    rows = [("d", "b", "1k-10k", 2000, "full_finetune", seed, 0.8, 60, 100) for seed in range(2)]
    table = compare_to_guideline(_trials([]), _final(rows))
    row = table.iloc[0]
    assert (row.strategy_verdict, row.strategy_reason) == (INCONCLUSIVE, "partial_freeze not run")
    assert math.isnan(row.guideline_mean) and row.guideline_n_seeds == 0
    assert (row.lr_verdict, row.epochs_verdict) == (INCONCLUSIVE, AGREES)
