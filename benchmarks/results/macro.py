"""Macro precision and recall of final seeds from their ``confusion.csv`` counts: what fills
``final.csv``'s ``test_macro_precision`` and ``test_macro_recall`` for rows written before
those columns existed, and what the report uses for folders still without them."""

from __future__ import annotations

import numpy as np
import pandas as pd

MACRO_COLUMNS = ("test_macro_precision", "test_macro_recall")
"""The ``final.csv`` columns computed here."""


def macro_from_counts(confusion: pd.DataFrame) -> pd.DataFrame:
    """Macro precision and recall of every final seed (``mlflow_run_id``) from its counts:
    the mean over the classes it has test images or predictions of (a class never predicted
    has precision 0), as scikit-learn's ``precision_recall_fscore_support(average="macro",
    zero_division=0)`` computes them from the predictions.

    Args:
        confusion: Rows of ``confusion.csv`` (``mlflow_run_id``, ``true_idx``, ``pred_idx``,
            ``count``).

    Returns:
        One row per ``mlflow_run_id``, columns ``["mlflow_run_id", *MACRO_COLUMNS]``.
    """
    rows = []
    for run_id, counts in confusion.groupby("mlflow_run_id", sort=False):
        tp = counts[counts["true_idx"] == counts["pred_idx"]].groupby("true_idx")["count"].sum()
        true = counts.groupby("true_idx")["count"].sum()
        pred = counts.groupby("pred_idx")["count"].sum()
        classes = true.index.union(pred.index)
        hits = tp.reindex(classes, fill_value=0)
        precision = (hits / pred.reindex(classes, fill_value=0).replace(0, np.nan)).fillna(0)
        recall = (hits / true.reindex(classes, fill_value=0).replace(0, np.nan)).fillna(0)
        rows.append((run_id, float(precision.mean()), float(recall.mean())))
    return pd.DataFrame(rows, columns=["mlflow_run_id", *MACRO_COLUMNS])
