"""Measured-vs-guideline verdicts per cell: strategy (the rule of
:mod:`benchmarks.results.verdicts`), LR range and epochs against the table of
:mod:`benchmarks.results.guideline_table`."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import pandas as pd

from benchmarks.results.guideline_table import Guideline, guideline_for, regime_rank
from benchmarks.results.stats import ACCURACY_BOUNDS, Interval, t_interval
from benchmarks.results.verdicts import (
    AGREES,
    DISAGREES,
    INCONCLUSIVE,
    MARGIN,
    NOT_TESTED,
    Verdict,
    best_on_validation,
    cell_difference,
    holm,
    judge,
    points_text,
)

__all__ = ["AGREES", "DISAGREES", "INCONCLUSIVE", "NOT_TESTED", "CellComparison",
           "compare_to_guideline", "epochs_verdict", "good_lr_range", "lr_verdict"]


def lr_verdict(good_lr: tuple[float, float] | None, n_good: int, n_complete: int,
               guide: Guideline, margin: float) -> Verdict:
    """Does the measured good-LR range overlap the guideline's LR range?

    The good range spans the best strategy's COMPLETE trials within ``margin`` of its best
    validation accuracy. ``agrees`` on overlap, ``disagrees`` when disjoint, and
    ``inconclusive`` unless at least 2 trials are in it (one trial's LR is not a range).

    Args:
        good_lr: ``(min, max)`` LR of the trials within the margin, or None.
        n_good: how many trials are within the margin.
        n_complete: COMPLETE trials of the best strategy in the cell.
        guide: The guideline row.
        margin: the practical margin (accuracy).
    """
    within = f"{n_good} of {n_complete} trials within {points_text(margin)} of the best"
    if n_good < 2 or good_lr is None:
        return Verdict(INCONCLUSIVE, within)
    low, high = good_lr
    if low <= guide.lr_high and high >= guide.lr_low:
        return Verdict(AGREES, within)
    side = "above" if low > guide.lr_high else "below"
    return Verdict(DISAGREES, f"{side} {guide.lr_text}; {within}")


def epochs_verdict(mean_best_epoch: float, max_epochs: int, guide: Guideline) -> Verdict:
    """Does the mean epoch of best validation accuracy fall in the guideline's range?

    ``not tested`` when the budget is below the guideline's lower bound, else
    ``agrees``/``disagrees`` (``100+`` means >= 100); ``inconclusive`` without data.

    Args:
        mean_best_epoch: Mean 1-based ``best_epoch`` over seeds (NaN if unknown).
        max_epochs: Epoch budget of the runs.
        guide: The guideline row.
    """
    if math.isnan(mean_best_epoch) or max_epochs <= 0:
        return Verdict(INCONCLUSIVE, "no epoch data")
    if max_epochs < guide.epochs_low:
        return Verdict(NOT_TESTED, f"budget {max_epochs} < {guide.epochs_low}")
    upper = math.inf if guide.epochs_high is None else guide.epochs_high
    if guide.epochs_low <= mean_best_epoch <= upper:
        return Verdict(AGREES)
    return Verdict(DISAGREES, f"{mean_best_epoch:.1f} outside {guide.epochs_text}")


@dataclass(frozen=True)
class CellComparison:
    """The measured answer beside one guideline row, for one dataset and backbone.

    The best strategy is the one with the highest mean validation accuracy over the final
    seeds (``best_val``); accuracies and macro F1 are test means with 95% intervals;
    ``diff_*`` is the paired test-accuracy difference guideline strategy minus best, with
    Cohen's d_z (``effect_size``), its two-sided paired t-test p and the Holm-adjusted p over
    every comparison of the report (``p_holm``).
    """

    dataset: str
    backbone: str
    regime: str
    n_train: int
    sizes_in_regime: int
    guideline_strategy: str
    best_strategy: str
    best_params: str
    best_val: float
    best_mean: float
    best_ci_low: float
    best_ci_high: float
    best_macro_f1: float
    best_n_seeds: int
    guideline_mean: float
    guideline_ci_low: float
    guideline_ci_high: float
    guideline_n_seeds: int
    n_paired: int
    diff_mean: float
    diff_low: float
    diff_high: float
    effect_size: float
    p_value: float
    p_holm: float
    margin: float
    strategy_verdict: str
    strategy_reason: str
    guideline_lr: str
    good_lr_min: float
    good_lr_max: float
    n_good_trials: int
    n_complete_trials: int
    lr_verdict: str
    lr_reason: str
    guideline_epochs: str
    mean_best_epoch: float
    max_epochs: int
    epochs_verdict: str
    epochs_reason: str


def good_lr_range(trials: pd.DataFrame, margin: float = MARGIN
                  ) -> tuple[tuple[float, float] | None, int, int]:
    """LR range of COMPLETE trials within ``margin`` of the best val_acc.

    Args:
        trials: Trial rows of one cell and strategy.
        margin: the practical margin (accuracy).

    Returns:
        ``((min_lr, max_lr), n_within, n_complete)``; the range is None without complete
        trials.
    """
    done = trials[(trials["status"] == "COMPLETE") & trials["val_acc"].notna()]
    if done.empty:
        return None, 0, 0
    near = done[done["val_acc"] >= done["val_acc"].max() - margin - 1e-12]
    return (float(near["lr"].min()), float(near["lr"].max())), len(near), len(done)


def _strategy_part(cell: pd.DataFrame, guide: Guideline, margin: float) -> dict:
    intervals = {s: t_interval(g["test_acc"], bounds=ACCURACY_BOUNDS)
                 for s, g in cell.groupby("strategy", sort=True)}
    best = best_on_validation(cell)
    none = Interval(math.nan, math.nan, math.nan, 0)
    ran = guide.strategy in intervals
    by_seed = cell.groupby(["strategy", "seed"])["test_acc"].mean()
    mine = cell[cell["strategy"] == best]
    diff = cell_difference(by_seed, guide.strategy, best)
    verdict = judge(guide.strategy, best, ran, diff, margin)
    best_iv, guide_iv = intervals[best], intervals.get(guide.strategy, none)
    return {
        "guideline_strategy": guide.strategy, "best_strategy": best,
        "best_params": _params(mine), "best_val": float(mine["val_acc"].mean()),
        "best_mean": best_iv.mean, "best_ci_low": best_iv.low, "best_ci_high": best_iv.high,
        "best_macro_f1": float(mine["test_macro_f1"].mean()) if "test_macro_f1" in mine
        else math.nan, "best_n_seeds": best_iv.n, "guideline_mean": guide_iv.mean,
        "guideline_ci_low": guide_iv.low, "guideline_ci_high": guide_iv.high,
        "guideline_n_seeds": guide_iv.n, "n_paired": diff.n, "diff_mean": diff.mean,
        "diff_low": diff.low, "diff_high": diff.high, "effect_size": diff.effect,
        "p_value": diff.p_value, "p_holm": math.nan, "margin": margin,
        "strategy_verdict": verdict.label, "strategy_reason": verdict.reason,
    }


DEFAULTS_HIDDEN = {"bn_frozen": "frozen_stats", "bn_trainable": "train", "weight_decay": 0.01}
"""Config values every strategy has by default, left out of the winning configuration."""


def _params(rows: pd.DataFrame) -> str:
    """The winning configuration (the final seeds share it), less the LR (its own column)
    and the BatchNorm policies left at their defaults."""
    if "params" not in rows or rows.empty:
        return ""
    try:
        params = json.loads(str(rows["params"].iloc[0]))
    except ValueError:
        return ""
    shown = {k: v for k, v in params.items()
             if k != "lr" and DEFAULTS_HIDDEN.get(k, object()) != v and v != []}
    return ", ".join(f"{k}={_value(v)}" for k, v in sorted(shown.items()))


def _value(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _lr_part(trials: pd.DataFrame, guide: Guideline, margin: float) -> dict:
    good_lr, n_good, n_complete = good_lr_range(trials, margin)
    verdict = lr_verdict(good_lr, n_good, n_complete, guide, margin)
    low, high = good_lr if good_lr else (math.nan, math.nan)
    return {
        "guideline_lr": guide.lr_text, "good_lr_min": low, "good_lr_max": high,
        "n_good_trials": n_good, "n_complete_trials": n_complete,
        "lr_verdict": verdict.label, "lr_reason": verdict.reason,
    }


def _epochs_part(best_rows: pd.DataFrame, guide: Guideline) -> dict:
    mean_epoch = float(best_rows["best_epoch"].mean())
    budget = best_rows["max_epochs"].max()
    max_epochs = int(budget) if pd.notna(budget) else 0
    verdict = epochs_verdict(mean_epoch, max_epochs, guide)
    return {
        "guideline_epochs": guide.epochs_text, "mean_best_epoch": mean_epoch,
        "max_epochs": max_epochs, "epochs_verdict": verdict.label,
        "epochs_reason": verdict.reason,
    }


def _compare_cell(cell: pd.DataFrame, trials: pd.DataFrame, guide: Guideline,
                  margin: float) -> dict:
    """Compare one (dataset, backbone, n_train) cell of final.csv with ``guide``."""
    first = cell.iloc[0]
    key = {"dataset": str(first["dataset"]), "backbone": str(first["backbone"]),
           "regime": str(first["regime"]), "n_train": int(first["n_train"])}
    strategy = _strategy_part(cell, guide, margin)
    best = strategy["best_strategy"]
    mine = trials[(trials["dataset"] == key["dataset"]) & (trials["backbone"] == key["backbone"])
                  & (trials["n_train"] == key["n_train"]) & (trials["strategy"] == best)]
    row = {**key, "sizes_in_regime": 1, **strategy, **_lr_part(mine, guide, margin),
           **_epochs_part(cell[cell["strategy"] == best], guide)}
    return asdict(CellComparison(**row))


def compare_to_guideline(trials: pd.DataFrame, final: pd.DataFrame,
                         margin: float = MARGIN) -> pd.DataFrame:
    """One row per (dataset, backbone, guideline regime): measured answer and verdicts.

    When several training-set sizes fall in one regime, the largest one is used.
    Regimes with no guideline row, and rows without test_acc, are left out.

    Args:
        trials: Rows of ``trials.csv``.
        final: Rows of ``final.csv``.
        margin: the practical margin of the verdicts (accuracy; 0.01 = one point).

    Returns:
        A DataFrame with the fields of :class:`CellComparison`, sorted by dataset,
        backbone and regime order.
    """
    rows = []
    final = final[final["test_acc"].notna()]
    for (_, _, regime), group in final.groupby(["dataset", "backbone", "regime"], sort=True):
        guide = guideline_for(str(regime))
        if guide is None:
            continue
        largest = group["n_train"].max()
        row = _compare_cell(group[group["n_train"] == largest], trials, guide, margin)
        row["sizes_in_regime"] = int(group["n_train"].nunique())
        rows.append(row)
    columns = list(CellComparison.__dataclass_fields__)
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    table["p_holm"] = holm(table["p_value"].tolist())
    table["_rank"] = table["regime"].map(regime_rank)
    table = table.sort_values(["dataset", "backbone", "_rank"], kind="stable")
    return table.drop(columns="_rank").reset_index(drop=True)


def reach_text(final: pd.DataFrame, reach_seeds: tuple[int, ...]) -> str:
    """Where the suite's seeds within reach ran, and what that means for those verdicts; ""
    when none ran (:mod:`benchmarks.results.reach`)."""
    extra = final[final["seed"].isin(reach_seeds)] if reach_seeds else final.iloc[:0]
    if extra.empty:
        return ""
    first = sorted(set(final["seed"].dropna().astype(int)) - set(reach_seeds))
    sizes = sorted({f"{b}/{d}/n{int(n)}" for b, d, n in
                    zip(extra["backbone"], extra["dataset"], extra["n_train"], strict=True)})
    return (f"Seeds {', '.join(map(str, reach_seeds))} ran, in every strategy, only where the "
            f"first seeds ({', '.join(map(str, first))}) left the strategy verdict "
            f"inconclusive but within reach of {len(first) + len(reach_seeds)} seeds at their "
            f"mean and spread ({len(sizes)} of them: {', '.join(sizes)}). Their verdicts "
            "rest on every seed; since the extra seeds went where the first came out close, "
            "their 95% intervals are not corrected for that choice (a two-stage design).")
