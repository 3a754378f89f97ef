"""Pure DataFrame transforms: result rows in, tidy tables of what the report plots and lists."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.results.guideline_table import GUIDELINES, guideline_for, regime_rank
from benchmarks.results.stats import ACCURACY_BOUNDS, t_interval

STRATEGY_ORDER: tuple[str, ...] = (
    "feature_extraction", "partial_freeze", "full_finetune", "from_scratch",
    "gradual_unfreeze", "discriminative_lr", "lp_ft",
)
STATUS_ORDER: tuple[str, ...] = ("COMPLETE", "PRUNED", "FAIL", "SKIPPED")
ACCURACY_COLUMNS = [
    "dataset", "backbone", "n_train", "regime", "strategy",
    "mean", "ci_low", "ci_high", "n_seeds", "macro_f1", "macro_precision", "macro_recall",
]
MACRO_COLUMNS = ("test_macro_f1", "test_macro_precision", "test_macro_recall")
"""Per-seed macro scores averaged beside accuracy (NaN where a results folder lacks them)."""
LR_POINT_COLUMNS = ["dataset", "backbone", "regime", "n_train", "strategy", "lr", "val_acc"]
GAIN_COLUMNS = ["dataset", "backbone", "n_train", "regime", "strategy",
                "default_val_acc", "best_val_acc", "gain"]
COST_COLUMNS = ["dataset", "backbone", "n_train", "strategy", "test_acc", "train_time_s",
                "trainable_params", "pareto_time", "pareto_params", "contended_seeds"]
CURVE_COLUMNS = ["dataset", "backbone", "n_train", "strategy", "trial", "epoch", "val_acc",
                 "train_loss"]
CELL_KEYS = ["dataset", "backbone", "n_train", "strategy"]
SCORED_STATUSES = ("COMPLETE", "PRUNED")
"""Statuses whose ``val_acc`` measures the trial's configuration (up to pruning if PRUNED)."""


def ordered_strategies(names: pd.Series | list[str]) -> list[str]:
    """Strategy names in canonical order (known ones first, then the rest sorted)."""
    present = set(map(str, names))
    known = [s for s in STRATEGY_ORDER if s in present]
    return known + sorted(present - set(known))


def ordered_regimes(names: pd.Series | list[str]) -> list[str]:
    """Regime labels in guideline-table order, unknown ones last (sorted)."""
    return sorted(set(map(str, names)), key=lambda r: (regime_rank(r), r))


def accuracy_by_size(final: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy with a 95% t-interval over seeds, per cell, and the mean macro F1,
    precision and recall (``final.csv``'s, or, for an older folder, from the confusion
    counts where the caller joined them: :func:`benchmarks.results.macro.macro_from_counts`).

    Args:
        final: Rows of ``final.csv`` (one per seed).

    Returns:
        Columns ``ACCURACY_COLUMNS``; one row per (dataset, backbone, n_train, strategy),
        sorted by dataset, backbone, n_train and canonical strategy order.
    """
    rows = []
    keys = ["dataset", "backbone", "n_train", "regime", "strategy"]
    for key, group in final.groupby(keys, sort=False):
        interval = t_interval(group["test_acc"], bounds=ACCURACY_BOUNDS)
        macros = [float(pd.to_numeric(group[c], errors="coerce").mean()) if c in group
                  else float("nan") for c in MACRO_COLUMNS]
        rows.append((*key, interval.mean, interval.low, interval.high, interval.n, *macros))
    return _sorted_cells(pd.DataFrame(rows, columns=ACCURACY_COLUMNS))


def _sorted_cells(table: pd.DataFrame, then: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows sorted by dataset, backbone, n_train, canonical strategy order, then ``then``."""
    order = {s: i for i, s in enumerate(ordered_strategies(table["strategy"]))}
    table = table.assign(_order=table["strategy"].map(order))
    table = table.sort_values(["dataset", "backbone", "n_train", "_order", *then], kind="stable")
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


def _is_true(values: pd.Series) -> pd.Series:
    """A flag column as booleans, whether pandas read it as bool, text or number."""
    return values.astype(str).str.strip().str.lower().isin({"true", "1", "1.0"})


def tuning_gain(trials: pd.DataFrame) -> pd.DataFrame:
    """Validation accuracy of the guideline default trial against the best trial, per cell.

    The default is the ``is_default`` trial that ended COMPLETE or PRUNED with a val_acc
    (the lowest trial number if several, e.g. a retry); NaN if it failed or was skipped.
    The best is the highest val_acc over COMPLETE trials (NaN if none completed).

    Args:
        trials: Rows of ``trials.csv``.

    Returns:
        Columns ``GAIN_COLUMNS`` (``gain = best_val_acc - default_val_acc``), one row per
        (dataset, backbone, n_train, regime, strategy), sorted as :func:`accuracy_by_size`.
    """
    keys = ["dataset", "backbone", "n_train", "regime", "strategy"]
    scored = trials[trials["val_acc"].notna()]
    is_default = _is_true(scored["is_default"]) & scored["status"].isin(SCORED_STATUSES)
    default = scored[is_default].sort_values("trial", kind="stable").groupby(keys)["val_acc"]
    best = scored[scored["status"] == "COMPLETE"].groupby(keys)["val_acc"]
    table = (trials[keys].drop_duplicates()
             .merge(default.first().rename("default_val_acc").reset_index(), how="left")
             .merge(best.max().rename("best_val_acc").reset_index(), how="left"))
    table["gain"] = table["best_val_acc"] - table["default_val_acc"]
    return _sorted_cells(table[GAIN_COLUMNS].astype({c: float for c in GAIN_COLUMNS[5:]}))


def pareto_mask(accuracy: pd.Series, cost: pd.Series) -> pd.Series:
    """Points no other point beats: none has >= accuracy and <= cost with one strictly better.

    Identical points do not dominate each other; a point with a NaN is never optimal and
    dominates nothing.
    """
    acc, cst = accuracy.to_numpy(float), cost.to_numpy(float)
    ok = ~(np.isnan(acc) | np.isnan(cst))
    a, c = acc[ok][:, None], cst[ok][:, None]  # row i: the point, column j: a rival
    no_worse = (a.T >= a) & (c.T <= c)
    dominated = (no_worse & ((a.T > a) | (c.T < c))).any(axis=1)
    mask = np.zeros(len(acc), dtype=bool)
    mask[ok] = ~dominated
    return pd.Series(mask, index=accuracy.index)


def cost_points(final: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy against cost per cell, with the Pareto-optimal points marked.

    Args:
        final: Rows of ``final.csv`` (one per seed).

    Returns:
        Columns ``COST_COLUMNS``: per (dataset, backbone, n_train, strategy) the mean
        ``test_acc`` and ``train_time_s`` over seeds and the maximum ``trainable_params``;
        ``pareto_time`` / ``pareto_params`` flag the optimal points of accuracy against that
        cost within each (dataset, backbone, n_train) group; ``contended_seeds`` counts the
        seeds whose ``time_contended`` (:mod:`report.timing`) is set. Sorted as
        :func:`accuracy_by_size`.
    """
    numbers = final[["test_acc", "train_time_s", "trainable_params"]].apply(
        pd.to_numeric, errors="coerce")
    contended = final.get("time_contended", pd.Series(False, index=final.index)).astype(int)
    table = pd.concat([final[CELL_KEYS], numbers, contended.rename("contended_seeds")], axis=1
                      ).groupby(CELL_KEYS, as_index=False).agg(
        test_acc=("test_acc", "mean"), train_time_s=("train_time_s", "mean"),
        trainable_params=("trainable_params", "max"), contended_seeds=("contended_seeds", "sum"))
    for flag, cost in (("pareto_time", "train_time_s"), ("pareto_params", "trainable_params")):
        table[flag] = False
        for _, group in table.groupby(CELL_KEYS[:3]):
            table.loc[group.index, flag] = pareto_mask(group["test_acc"], group[cost])
    return _sorted_cells(table[COST_COLUMNS])


def best_curves(trials: pd.DataFrame, epochs: pd.DataFrame | None) -> pd.DataFrame:
    """Per-epoch validation accuracy and training loss of each cell's best COMPLETE trial.

    Args:
        trials: Rows of ``trials.csv``; the best trial has the highest val_acc (ties: the
            lowest trial number).
        epochs: Rows of ``epochs.csv``, or None when the results folder has none.

    Returns:
        Columns ``CURVE_COLUMNS``, sorted as :func:`accuracy_by_size`, then by epoch; empty
        when ``epochs`` is None or holds no row of a best trial.
    """
    if epochs is None or epochs.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    done = trials[(trials["status"] == "COMPLETE") & trials["val_acc"].notna()]
    best = done.sort_values(["val_acc", "trial"], ascending=[False, True], kind="stable")
    best = best.drop_duplicates(CELL_KEYS)[[*CELL_KEYS, "trial"]]
    curves = epochs[CURVE_COLUMNS].merge(best, on=[*CELL_KEYS, "trial"])
    return _sorted_cells(curves, then=("epoch",))
