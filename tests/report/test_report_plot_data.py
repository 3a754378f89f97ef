"""Tests of report.plot_data: the numbers behind each figure and summary table."""

import math

import pandas as pd
import pytest
from scipy import stats

from report.plot_data import (
    COST_COLUMNS,
    CURVE_COLUMNS,
    GAIN_COLUMNS,
    accuracy_by_size,
    best_curves,
    cost_points,
    guideline_bands,
    lr_points,
    ordered_regimes,
    ordered_strategies,
    trial_problems,
    trial_status_counts,
    tuning_gain,
)

NAN = math.nan


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


def _gain_trials(flag=lambda value: value):
    cells = {  # (n_train, strategy): [(trial, is_default, status, val_acc)]
        (100, "feature_extraction"): [(0, True, "COMPLETE", 0.5), (1, False, "COMPLETE", 0.7),
                                      (2, False, "PRUNED", 0.9)],
        (100, "full_finetune"): [(0, True, "FAIL", None), (1, False, "COMPLETE", 0.6)],
        (10, "full_finetune"): [(0, True, "PRUNED", 0.3), (1, False, "COMPLETE", 0.4)],
        (10, "lp_ft"): [(0, True, "FAIL", None), (1, False, "COMPLETE", 0.5),
                        (2, True, "COMPLETE", 0.55)],  # 2 retries the interrupted default
        (10, "from_scratch"): [(0, True, "SKIPPED", None), (1, False, "FAIL", None)],
    }
    rows = [("d", "b", n_train, "<1k", strategy, trial, flag(default), status, val)
            for (n_train, strategy), trials in cells.items()
            for trial, default, status, val in trials]
    return pd.DataFrame(rows, columns=["dataset", "backbone", "n_train", "regime", "strategy",
                                       "trial", "is_default", "status", "val_acc"])


@pytest.mark.parametrize("flag", [bool, str], ids=["bool", "text"])
def test_tuning_gain_numbers(flag):
    table = tuning_gain(_gain_trials(flag))
    assert table.columns.tolist() == GAIN_COLUMNS
    assert table[["n_train", "strategy"]].values.tolist() == [
        [10, "full_finetune"], [10, "from_scratch"], [10, "lp_ft"],
        [100, "feature_extraction"], [100, "full_finetune"],
    ]
    assert table["default_val_acc"].tolist() == pytest.approx(
        [0.3, NAN, 0.55, 0.5, NAN], nan_ok=True)  # PRUNED default counts; FAIL is NaN
    assert table["best_val_acc"].tolist() == pytest.approx(
        [0.4, NAN, 0.55, 0.7, 0.6], nan_ok=True)  # the PRUNED 0.9 is not a best
    assert table["gain"].tolist() == pytest.approx([0.1, NAN, 0.0, 0.2, NAN], nan_ok=True)


def _final_costs():
    rows = [  # n_train, strategy, seed, test_acc, train_time_s, trainable_params
        (10, "feature_extraction", 0, 0.5, 1.0, 100),
        (10, "feature_extraction", 1, 0.75, 3.0, 100),
        (10, "partial_freeze", 0, 0.625, 2.0, 1000),  # ties feature_extraction in time
        (10, "full_finetune", 0, 0.875, 10.0, 4000), (10, "full_finetune", 1, 0.875, 10.0, 5000),
        (10, "from_scratch", 0, 0.25, 1.0, 5000),
        (10, "lp_ft", 0, 0.5, 5.0, 200),
        (100, "full_finetune", 0, 0.25, 0.5, 100),  # would dominate from_scratch at 10
        (100, "lp_ft", 0, 0.9, NAN, 50),
    ]
    frame = pd.DataFrame(rows, columns=["n_train", "strategy", "seed", "test_acc",
                                        "train_time_s", "trainable_params"])
    return frame.assign(dataset="d", backbone="b", regime="<1k")


def test_cost_points_means_and_pareto_fronts():
    table = cost_points(_final_costs())
    assert table.columns.tolist() == COST_COLUMNS
    assert table[["n_train", "strategy", "pareto_time", "pareto_params"]].values.tolist() == [
        [10, "feature_extraction", True, True],
        [10, "partial_freeze", True, False],  # tie in time: both optimal; more params
        [10, "full_finetune", True, True],
        [10, "from_scratch", True, False],
        [10, "lp_ft", False, False],  # dominated by feature_extraction in both
        [100, "full_finetune", True, False],  # its own group: from_scratch at 10 stays optimal
        [100, "lp_ft", False, True],  # no time: never optimal in time
    ]
    assert table["test_acc"].tolist() == [0.625, 0.625, 0.875, 0.25, 0.5, 0.25, 0.9]
    assert table["train_time_s"].tolist() == pytest.approx(
        [2.0, 2.0, 10.0, 1.0, 5.0, 0.5, NAN], nan_ok=True)  # mean over seeds
    assert table["trainable_params"].tolist() == [100, 1000, 5000, 5000, 200, 100, 50]  # max


def test_cost_points_flags_are_booleans_even_with_no_rows():
    table = cost_points(_final_costs())
    assert table["pareto_time"].dtype == bool and table["pareto_params"].dtype == bool
    empty = cost_points(_final_costs().iloc[:0])
    assert empty.empty and empty.columns.tolist() == COST_COLUMNS


def _curve_trials():
    rows = [  # n_train, strategy, trial, status, val_acc
        (10, "feature_extraction", 0, "COMPLETE", 0.8),
        (10, "feature_extraction", 1, "COMPLETE", 0.9),
        (10, "feature_extraction", 2, "COMPLETE", 0.9),  # ties trial 1: the lower number wins
        (10, "feature_extraction", 3, "PRUNED", 0.95),
        (10, "full_finetune", 0, "FAIL", None), (10, "full_finetune", 1, "COMPLETE", 0.5),
        (100, "feature_extraction", 0, "COMPLETE", 0.7),  # no epoch rows
    ]
    frame = pd.DataFrame(rows, columns=["n_train", "strategy", "trial", "status", "val_acc"])
    return frame.assign(dataset="d", backbone="b")


def _epochs():
    rows = [(10, "feature_extraction", trial, epoch, 0.1 * trial + 0.01 * epoch, 2.0 - epoch)
            for trial in range(4) for epoch in (1, 2)]
    rows += [(10, "full_finetune", 1, 2, 0.5, 0.3), (10, "full_finetune", 1, 1, 0.4, 0.6),
             (10, "full_finetune", 0, 1, 0.1, 9.0), (100, "full_finetune", 0, 1, 0.2, 1.0)]
    frame = pd.DataFrame(rows, columns=["n_train", "strategy", "trial", "epoch", "val_acc",
                                        "train_loss"])
    return frame.assign(dataset="d", backbone="b", regime="<1k")


def test_best_curves_take_the_best_complete_trial_lowest_number_on_ties():
    curves = best_curves(_curve_trials(), _epochs())
    assert curves.columns.tolist() == CURVE_COLUMNS
    assert curves[["n_train", "strategy", "trial", "epoch"]].values.tolist() == [
        [10, "feature_extraction", 1, 1], [10, "feature_extraction", 1, 2],
        [10, "full_finetune", 1, 1], [10, "full_finetune", 1, 2],
    ]
    assert curves["val_acc"].tolist() == pytest.approx([0.11, 0.12, 0.4, 0.5])
    assert curves["train_loss"].tolist() == pytest.approx([1.0, 0.0, 0.6, 0.3])


def test_best_curves_without_epochs_csv_is_empty():
    for epochs in (None, _epochs().iloc[:0]):
        curves = best_curves(_curve_trials(), epochs)
        assert curves.empty and curves.columns.tolist() == CURVE_COLUMNS
