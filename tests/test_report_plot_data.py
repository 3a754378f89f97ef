"""Tests of report.plot_data: the numbers behind each figure and summary table."""

import pandas as pd
import pytest
from scipy import stats

from report.plot_data import (
    accuracy_by_size,
    guideline_bands,
    lr_points,
    ordered_regimes,
    ordered_strategies,
    trial_problems,
    trial_status_counts,
)


@pytest.fixture
def final():
    rows = [
        ("d", "b", 100, "<1k", "full_finetune", 0, 0.50),
        ("d", "b", 100, "<1k", "full_finetune", 1, 0.60),
        ("d", "b", 100, "<1k", "feature_extraction", 0, 0.70),
        ("d", "b", 10, "<1k", "feature_extraction", 0, 0.40),
        ("d", "b", 10, "<1k", "feature_extraction", 1, 0.44),
        ("d", "b", 10, "<1k", "feature_extraction", 2, 0.42),
    ]
    return pd.DataFrame(rows, columns=["dataset", "backbone", "n_train", "regime", "strategy",
                                       "seed", "test_acc"])


@pytest.fixture
def trials():
    rows = [
        ("d", "b", ">10k", 20000, "full_finetune", "COMPLETE", "", 1e-4, 0.8),
        ("d", "b", "<1k", 10, "lp_ft", "COMPLETE", "", 1e-3, 0.6),
        ("d", "b", "<1k", 10, "feature_extraction", "COMPLETE", "", 1e-3, 0.7),
        ("d", "b", "<1k", 10, "feature_extraction", "PRUNED", "", 1e-2, 0.2),
        ("d", "b", "<1k", 10, "feature_extraction", "FAIL", "CUDA OOM", 1e-2, None),
        ("d", "b", "<1k", 10, "full_finetune", "FAIL", "CUDA OOM", 1e-3, None),
        ("d", "b", "<1k", 10, "full_finetune", "FAIL", "CUDA OOM", 1e-4, None),
        ("d", "b", "<1k", 10, "from_scratch", "SKIPPED", "", 1e-4, None),
        ("d", "b", "<1k", 10, "from_scratch", "COMPLETE", "", None, 0.1),
    ]
    return pd.DataFrame(rows, columns=["dataset", "backbone", "regime", "n_train", "strategy",
                                       "status", "reason", "lr", "val_acc"])


def test_accuracy_by_size_numbers(final):
    table = accuracy_by_size(final)
    assert table[["n_train", "strategy", "n_seeds"]].values.tolist() == [
        [10, "feature_extraction", 3], [100, "feature_extraction", 1], [100, "full_finetune", 2],
    ]
    assert table["mean"].tolist() == pytest.approx([0.42, 0.70, 0.55])
    low, high = stats.t.interval(0.95, 2, loc=0.42, scale=stats.sem([0.40, 0.44, 0.42]))
    assert (table.ci_low[0], table.ci_high[0]) == pytest.approx((low, high))
    assert table.ci_low[1] == table.ci_high[1] == pytest.approx(0.70)


def test_lr_points_keeps_complete_trials_with_lr(trials):
    points = lr_points(trials)
    assert points[["regime", "strategy", "lr", "val_acc"]].values.tolist() == [
        ["<1k", "feature_extraction", 1e-3, 0.7], ["<1k", "lp_ft", 1e-3, 0.6],
        [">10k", "full_finetune", 1e-4, 0.8],
    ]


def test_guideline_bands():
    bands = guideline_bands([">10k", "weird", "<1k", "<1k"])
    assert bands.values.tolist() == [
        ["<1k", "feature_extraction", 1e-4, 1e-3], [">10k", "full_finetune", 1e-5, 1e-4],
    ]
    assert len(guideline_bands()) == 3


def test_trial_status_counts(trials):
    counts = trial_status_counts(trials).set_index("strategy")
    assert counts.index.tolist() == ["feature_extraction", "full_finetune", "from_scratch",
                                     "lp_ft"]
    assert counts.loc["feature_extraction"].tolist() == [1, 1, 1, 0, 3]
    assert counts.loc["full_finetune"].tolist() == [1, 0, 2, 0, 3]
    assert counts.loc["from_scratch", "SKIPPED"] == 1


def test_trial_problems(trials):
    problems = trial_problems(trials)
    assert problems.values.tolist() == [
        ["FAIL", "feature_extraction", "CUDA OOM", 1], ["FAIL", "full_finetune", "CUDA OOM", 2],
        ["SKIPPED", "from_scratch", "(no reason given)", 1],
    ]


def test_orderings():
    assert ordered_strategies(["zzz", "full_finetune", "feature_extraction"]) == [
        "feature_extraction", "full_finetune", "zzz"]
    assert ordered_regimes([">10k", "x", "1k-10k", "<1k"]) == ["<1k", "1k-10k", ">10k", "x"]
