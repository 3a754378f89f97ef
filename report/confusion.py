"""The test confusion matrix of the best model of each cell, from ``confusion.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.results.verdicts import best_on_validation

CONFUSION_COLUMNS = ["dataset", "backbone", "n_train", "strategy", "n_seeds", "true_idx",
                     "true_class", "pred_idx", "pred_class", "count", "rate"]
GRID_KEYS = ["dataset", "backbone", "n_train"]
PAIR_KEYS = ["true_idx", "true_class", "pred_idx", "pred_class"]


def best_strategies(final: pd.DataFrame) -> pd.DataFrame:
    """The strategy with the highest mean validation accuracy per (dataset, backbone,
    n_train): :func:`benchmarks.results.verdicts.best_on_validation`, as in every section.

    Returns:
        Columns ``GRID_KEYS + ["strategy"]``.
    """
    rows = [(*cell, best_on_validation(group))
            for cell, group in final.groupby(GRID_KEYS, sort=True)]
    return pd.DataFrame(rows, columns=GRID_KEYS + ["strategy"])


def best_confusion(final: pd.DataFrame, confusion: pd.DataFrame | None) -> pd.DataFrame:
    """Confusion counts of each cell's best strategy, summed over its seeds.

    Only the counts of seeds in ``final.csv`` count (joined on ``mlflow_run_id``), so the
    rows of a seed killed before its final row was written are left out.

    Args:
        final: Rows of ``final.csv``.
        confusion: Rows of ``confusion.csv``, or None when there is none.

    Returns:
        Columns ``CONFUSION_COLUMNS``: ``count`` summed over seeds and ``rate`` = count /
        test images of that true class (each true class's rates sum to 1). Empty when
        there are no confusion rows.
    """
    if confusion is None or confusion.empty:
        return pd.DataFrame(columns=CONFUSION_COLUMNS)
    chosen = final.merge(best_strategies(final), on=GRID_KEYS + ["strategy"])
    seeds = chosen.groupby(GRID_KEYS + ["strategy"])["seed"].nunique().rename("n_seeds")
    rows = confusion.drop(columns=[c for c in GRID_KEYS + ["strategy"] if c in confusion])
    rows = rows.merge(chosen[GRID_KEYS + ["strategy", "mlflow_run_id"]], on="mlflow_run_id")
    summed = rows.groupby(GRID_KEYS + ["strategy"] + PAIR_KEYS, sort=True)["count"].sum()
    table = summed.reset_index().join(seeds, on=GRID_KEYS + ["strategy"])
    per_class = table.groupby(GRID_KEYS + ["true_idx"])["count"].transform("sum")
    table["rate"] = table["count"] / per_class
    return table[CONFUSION_COLUMNS].reset_index(drop=True)


def matrix(cell: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """A square rate matrix (rows: true class, columns: predicted) and the class names.

    Args:
        cell: One cell's rows of :func:`best_confusion`.

    Returns:
        The matrix over every class index seen as true or predicted, in index order, and
        their names.
    """
    names = dict(zip(cell["true_idx"], cell["true_class"]))
    names.update(zip(cell["pred_idx"], cell["pred_class"]))
    order = sorted(names)
    position = {idx: i for i, idx in enumerate(order)}
    rates = np.zeros((len(order), len(order)))
    for row in cell.itertuples():
        rates[position[row.true_idx], position[row.pred_idx]] = row.rate
    return rates, [str(names[i]) for i in order]
