"""final.csv's macro precision and recall: computed from predictions by the final run, and
from confusion counts for rows written before the columns existed."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import precision_score, recall_score

from benchmarks.results.macro import macro_from_counts


def test_macro_precision_and_recall_from_confusion_counts_match_scikit_learn():
    truth = [0] * 5 + [1] * 3 + [2] * 2
    pred = [0, 0, 0, 1, 2, 1, 1, 0, 0, 0]  # class 2 never predicted right: precision 0
    counts = pd.crosstab(pd.Series(truth, name="true_idx"), pd.Series(pred, name="pred_idx"))
    rows = counts.stack().rename("count").reset_index()
    rows = rows[rows["count"] > 0].assign(mlflow_run_id="r")
    scores = macro_from_counts(rows).iloc[0]
    assert scores.test_macro_precision == pytest.approx(
        precision_score(truth, pred, average="macro", zero_division=0))
    assert scores.test_macro_recall == pytest.approx(recall_score(truth, pred, average="macro"))
