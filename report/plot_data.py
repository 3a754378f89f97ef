"""Pure DataFrame transforms: result rows in, tidy tables of what the report plots and lists."""

from __future__ import annotations

import pandas as pd

from report.guideline import GUIDELINES, guideline_for, regime_rank
from report.stats import t_interval

STRATEGY_ORDER: tuple[str, ...] = (
    "feature_extraction", "partial_freeze", "full_finetune", "from_scratch",
    "gradual_unfreeze", "discriminative_lr", "lp_ft",
)
STATUS_ORDER: tuple[str, ...] = ("COMPLETE", "PRUNED", "FAIL", "SKIPPED")
ACCURACY_COLUMNS = [
    "dataset", "backbone", "n_train", "regime", "strategy",
    "mean", "ci_low", "ci_high", "n_seeds",
]
LR_POINT_COLUMNS = ["dataset", "backbone", "regime", "n_train", "strategy", "lr", "val_acc"]


def ordered_strategies(names: pd.Series | list[str]) -> list[str]:
    """Strategy names in canonical order (known ones first, then the rest sorted)."""
    present = set(map(str, names))
    known = [s for s in STRATEGY_ORDER if s in present]
    return known + sorted(present - set(known))


def ordered_regimes(names: pd.Series | list[str]) -> list[str]:
    """Regime labels in guideline-table order, unknown ones last (sorted)."""
    return sorted(set(map(str, names)), key=lambda r: (regime_rank(r), r))


def accuracy_by_size(final: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy with a 95% t-interval over seeds, per cell.

    Args:
        final: Rows of ``final.csv`` (one per seed).

    Returns:
        Columns ``ACCURACY_COLUMNS``; one row per (dataset, backbone, n_train, strategy),
        sorted by dataset, backbone, n_train and canonical strategy order.
    """
    rows = []
    keys = ["dataset", "backbone", "n_train", "regime", "strategy"]
    for key, group in final.groupby(keys, sort=False):
        interval = t_interval(group["test_acc"])
        rows.append(
            (*key, interval.mean, interval.low, interval.high, interval.n)
        )
    table = pd.DataFrame(rows, columns=ACCURACY_COLUMNS)
    order = {s: i for i, s in enumerate(ordered_strategies(table["strategy"]))}
    table["_order"] = table["strategy"].map(order)
    table = table.sort_values(["dataset", "backbone", "n_train", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def lr_points(trials: pd.DataFrame) -> pd.DataFrame:
    """Validation accuracy against LR for every COMPLETE trial with a val_acc.

    Args:
        trials: Rows of ``trials.csv``.

    Returns:
        Columns ``LR_POINT_COLUMNS``, sorted by dataset, backbone, regime order and LR.
    """
    done = trials[(trials["status"] == "COMPLETE") & trials["val_acc"].notna()]
    done = done[done["lr"].notna() & (done["lr"] > 0)]
    table = done[LR_POINT_COLUMNS].copy()
    table["_rank"] = table["regime"].map(regime_rank)
    table = table.sort_values(["dataset", "backbone", "_rank", "strategy", "lr"], kind="stable")
    return table.drop(columns="_rank").reset_index(drop=True)


def guideline_bands(regimes: pd.Series | list[str] | None = None) -> pd.DataFrame:
    """The guideline LR band of each regime, for shading.

    Args:
        regimes: Regimes to include (those without a guideline row are dropped);
            None for all guideline regimes.

    Returns:
        Columns ``regime, strategy, lr_low, lr_high`` in guideline order.
    """
    names = [g.regime for g in GUIDELINES] if regimes is None else ordered_regimes(regimes)
    guides = [g for g in map(guideline_for, names) if g is not None]
    return pd.DataFrame(
        [(g.regime, g.strategy, g.lr_low, g.lr_high) for g in guides],
        columns=["regime", "strategy", "lr_low", "lr_high"],
    )


def trial_status_counts(trials: pd.DataFrame) -> pd.DataFrame:
    """Number of trials per strategy and status.

    Args:
        trials: Rows of ``trials.csv``.

    Returns:
        One row per strategy; a column per status (the four known ones always,
        others appended), then ``total``.
    """
    counts = pd.crosstab(trials["strategy"], trials["status"])
    statuses = list(STATUS_ORDER) + sorted(set(counts.columns) - set(STATUS_ORDER))
    counts = counts.reindex(columns=statuses, fill_value=0)
    counts = counts.reindex(ordered_strategies(counts.index.to_list()))
    counts["total"] = counts.sum(axis=1)
    counts.columns.name = None
    return counts.rename_axis("strategy").reset_index()


def trial_problems(trials: pd.DataFrame) -> pd.DataFrame:
    """Reasons given for FAIL and SKIPPED trials, with how often each occurred.

    Args:
        trials: Rows of ``trials.csv``.

    Returns:
        Columns ``status, strategy, reason, count``; empty when nothing failed.
    """
    bad = trials[trials["status"].isin(["FAIL", "SKIPPED"])].copy()
    bad["reason"] = bad["reason"].fillna("").astype(str).replace("", "(no reason given)")
    table = bad.groupby(["status", "strategy", "reason"]).size().rename("count").reset_index()
    return table.sort_values(["status", "strategy", "count"], ascending=[True, True, False],
                             kind="stable").reset_index(drop=True)
