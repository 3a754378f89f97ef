"""Measured-vs-guideline verdicts per cell: strategy, LR range and epochs against the
table of :mod:`report.guideline_table`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from report.guideline_table import Guideline, guideline_for, regime_rank
from report.stats import (
    ACCURACY_BOUNDS,
    Interval,
    best_strategy,
    paired_by_key,
    t_interval,
)

AGREES, DISAGREES, INCONCLUSIVE, NOT_TESTED = "agrees", "disagrees", "inconclusive", "not tested"

ALPHA = 0.05
"""Significance level of the paired comparison best vs guideline strategy."""
LR_TOLERANCE = 0.02
"""A trial's LR is 'good' when its val_acc is within this of the cell's best val_acc."""


@dataclass(frozen=True)
class Verdict:
    """A cell verdict with the reason shown beside it.

    Attributes:
        label: One of ``agrees``, ``disagrees``, ``inconclusive``, ``not tested``.
        reason: Short justification, e.g. ``p=0.003 < 0.05``.
    """

    label: str
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.label} ({self.reason})" if self.reason else self.label


def strategy_verdict(
    guideline_strategy: str, best_strategy: str, guideline_ran: bool, n_paired: int, p_value: float
) -> Verdict:
    """Does the guideline's strategy match the measured best one?

    ``agrees`` when the guideline strategy is best or not significantly worse,
    ``disagrees`` when significantly worse, ``inconclusive`` when it was not run
    or fewer than 2 seeds are available.

    Args:
        guideline_strategy: Strategy the guideline recommends.
        best_strategy: Strategy with the highest mean test accuracy.
        guideline_ran: Whether the guideline strategy has test results in this cell.
        n_paired: Seeds present for both strategies (for best == guideline: its seed count).
        p_value: Paired t-test p-value best vs guideline (ignored when they are equal).
    """
    if not guideline_ran:
        return Verdict(INCONCLUSIVE, f"{guideline_strategy} not run")
    if n_paired < 2:
        rank = "ranks best" if best_strategy == guideline_strategy else "ranks below"
        return Verdict(INCONCLUSIVE, f"{n_paired} seed(s), no test; guideline {rank}")
    if best_strategy == guideline_strategy:
        return Verdict(AGREES, "guideline strategy is best")
    if math.isnan(p_value):
        return Verdict(INCONCLUSIVE, "p-value undefined")
    if p_value < ALPHA:
        return Verdict(DISAGREES, f"p={p_value:.3g} < {ALPHA}")
    return Verdict(AGREES, f"not significantly worse, p={p_value:.3g} >= {ALPHA}")


def lr_verdict(good_lr: tuple[float, float] | None, n_complete: int, guide: Guideline) -> Verdict:
    """Does the measured good-LR range overlap the guideline's LR range?

    ``agrees`` on overlap, ``disagrees`` when disjoint, ``inconclusive`` with fewer
    than 2 complete trials.

    Args:
        good_lr: ``(min, max)`` LR of near-best complete trials, or None.
        n_complete: Number of COMPLETE trials of the best strategy in the cell.
        guide: The guideline row.
    """
    if n_complete < 2 or good_lr is None:
        return Verdict(INCONCLUSIVE, f"{n_complete} complete trial(s)")
    low, high = good_lr
    if low <= guide.lr_high and high >= guide.lr_low:
        return Verdict(AGREES)
    side = "above" if low > guide.lr_high else "below"
    return Verdict(DISAGREES, f"{side} {guide.lr_text}")


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
    """The measured answer beside one guideline row, for one dataset and backbone."""

    dataset: str
    backbone: str
    regime: str
    n_train: int
    sizes_in_regime: int
    guideline_strategy: str
    best_strategy: str
    best_mean: float
    best_ci_low: float
    best_ci_high: float
    best_n_seeds: int
    guideline_mean: float
    guideline_ci_low: float
    guideline_ci_high: float
    guideline_n_seeds: int
    n_paired: int
    p_value: float
    strategy_verdict: str
    strategy_reason: str
    guideline_lr: str
    good_lr_min: float
    good_lr_max: float
    n_complete_trials: int
    lr_verdict: str
    lr_reason: str
    guideline_epochs: str
    mean_best_epoch: float
    max_epochs: int
    epochs_verdict: str
    epochs_reason: str


def good_lr_range(trials: pd.DataFrame) -> tuple[tuple[float, float] | None, int]:
    """LR range of COMPLETE trials within ``LR_TOLERANCE`` of the best val_acc.

    Args:
        trials: Trial rows of one cell and strategy.

    Returns:
        ``((min_lr, max_lr), n_complete)``; the range is None without complete trials.
    """
    done = trials[(trials["status"] == "COMPLETE") & trials["val_acc"].notna()]
    if done.empty:
        return None, 0
    near = done[done["val_acc"] >= done["val_acc"].max() - LR_TOLERANCE - 1e-12]
    return (float(near["lr"].min()), float(near["lr"].max())), len(done)


def _strategy_part(cell: pd.DataFrame, guide: Guideline) -> dict:
    intervals = {s: t_interval(g["test_acc"], bounds=ACCURACY_BOUNDS)
                 for s, g in cell.groupby("strategy", sort=True)}
    best = best_strategy({s: iv.mean for s, iv in intervals.items()})
    none = Interval(math.nan, math.nan, math.nan, 0)
    ran = guide.strategy in intervals
    by_seed = cell.groupby(["strategy", "seed"])["test_acc"].mean()
    if best == guide.strategy:
        n_paired, p_value = intervals[best].n, math.nan
    elif ran:
        test = paired_by_key(by_seed.loc[best], by_seed.loc[guide.strategy])
        n_paired, p_value = test.n_pairs, test.p_value
    else:
        n_paired, p_value = 0, math.nan
    verdict = strategy_verdict(guide.strategy, best, ran, n_paired, p_value)
    best_iv, guide_iv = intervals[best], intervals.get(guide.strategy, none)
    return {
        "guideline_strategy": guide.strategy, "best_strategy": best,
        "best_mean": best_iv.mean, "best_ci_low": best_iv.low, "best_ci_high": best_iv.high,
        "best_n_seeds": best_iv.n, "guideline_mean": guide_iv.mean,
        "guideline_ci_low": guide_iv.low, "guideline_ci_high": guide_iv.high,
        "guideline_n_seeds": guide_iv.n, "n_paired": n_paired, "p_value": p_value,
        "strategy_verdict": verdict.label, "strategy_reason": verdict.reason,
    }


def _lr_part(trials: pd.DataFrame, guide: Guideline) -> dict:
    good_lr, n_complete = good_lr_range(trials)
    verdict = lr_verdict(good_lr, n_complete, guide)
    low, high = good_lr if good_lr else (math.nan, math.nan)
    return {
        "guideline_lr": guide.lr_text, "good_lr_min": low, "good_lr_max": high,
        "n_complete_trials": n_complete, "lr_verdict": verdict.label, "lr_reason": verdict.reason,
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


def _compare_cell(cell: pd.DataFrame, trials: pd.DataFrame, guide: Guideline) -> dict:
    """Compare one (dataset, backbone, n_train) cell of final.csv with ``guide``."""
    first = cell.iloc[0]
    key = {"dataset": str(first["dataset"]), "backbone": str(first["backbone"]),
           "regime": str(first["regime"]), "n_train": int(first["n_train"])}
    strategy = _strategy_part(cell, guide)
    best = strategy["best_strategy"]
    mine = trials[(trials["dataset"] == key["dataset"]) & (trials["backbone"] == key["backbone"])
                  & (trials["n_train"] == key["n_train"]) & (trials["strategy"] == best)]
    row = {**key, "sizes_in_regime": 1, **strategy, **_lr_part(mine, guide),
           **_epochs_part(cell[cell["strategy"] == best], guide)}
    return asdict(CellComparison(**row))


def compare_to_guideline(trials: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, backbone, guideline regime): measured answer and verdicts.

    When several training-set sizes fall in one regime, the largest one is used.
    Regimes with no guideline row, and rows without test_acc, are left out.

    Args:
        trials: Rows of ``trials.csv``.
        final: Rows of ``final.csv``.

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
        row = _compare_cell(group[group["n_train"] == largest], trials, guide)
        row["sizes_in_regime"] = int(group["n_train"].nunique())
        rows.append(row)
    columns = list(CellComparison.__dataclass_fields__)
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    table["_rank"] = table["regime"].map(regime_rank)
    table = table.sort_values(["dataset", "backbone", "_rank"], kind="stable")
    return table.drop(columns="_rank").reset_index(drop=True)
