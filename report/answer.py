"""The report's opening answer: the guideline table as measured, in the guideline's own shape
(one row per data-size regime), built from the cell-by-cell comparison of
:func:`report.guideline.compare_to_guideline`."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from benchmarks.results.guideline_table import GUIDELINES, format_lr
from report.guideline import AGREES

ANSWER_COLUMNS = ("regime", "guideline strategy", "measured best strategy", "strategy agrees",
                  "guideline LR", "measured good LR", "LR agrees", "guideline epochs",
                  "epochs to best", "epochs agree")


def cell_label(row: pd.Series, show_backbone: bool) -> str:
    """How the answer names a comparison's cell: its dataset (and backbone if several)."""
    return f"{row.dataset}/{row.backbone}" if show_backbone else str(row.dataset)


def measured_table(table: pd.DataFrame) -> pd.DataFrame:
    """The guideline table as measured: one row per guideline regime that was run.

    Args:
        table: Output of :func:`report.guideline.compare_to_guideline` (one row per dataset,
            backbone and regime).

    Returns:
        The columns of :data:`ANSWER_COLUMNS`: per regime the guideline's recommendation
        beside the measured one of each dataset (named in brackets), and for each of
        strategy, LR and epochs how many datasets agree with the guideline, with the
        others' verdicts counted.
    """
    show_backbone = table["backbone"].nunique() > 1 if not table.empty else False
    rows = []
    for guide in GUIDELINES:
        cells = table[table["regime"] == guide.regime]
        if cells.empty:
            continue
        labels = [cell_label(r, show_backbone) for r in cells.itertuples()]
        rows.append({
            "regime": guide.regime,
            "guideline strategy": guide.strategy,
            "measured best strategy": _grouped(cells["best_strategy"].tolist(), labels),
            "strategy agrees": agreement(cells["strategy_verdict"]),
            "guideline LR": guide.lr_text,
            "measured good LR": _grouped(_each(cells, _lr_text), labels),
            "LR agrees": agreement(cells["lr_verdict"]),
            "guideline epochs": guide.epochs_text,
            "epochs to best": _grouped(_each(cells, _epochs_text), labels),
            "epochs agree": agreement(cells["epochs_verdict"]),
        })
    return pd.DataFrame(rows, columns=list(ANSWER_COLUMNS))


def agreement(verdicts: pd.Series) -> str:
    """``"1 of 2 (1 disagrees)"``: the datasets that agree, then the others' verdicts."""
    counts = verdicts.value_counts()
    others = ", ".join(f"{n} {label}" for label, n in counts.items() if label != AGREES)
    text = f"{int(counts.get(AGREES, 0))} of {len(verdicts)}"
    return f"{text} ({others})" if others else text


def _each(cells: pd.DataFrame, text: Callable[[pd.Series], str]) -> list[str]:
    return [text(row) for _, row in cells.iterrows()]


def _grouped(values: list[str], labels: list[str]) -> str:
    """``"a (x, y); b (z)"``: each distinct value once, with the cells that have it."""
    order = list(dict.fromkeys(values))
    return "; ".join(
        f"{value} ({', '.join(lb for v, lb in zip(values, labels) if v == value)})"
        for value in order)


def _lr_text(row: pd.Series) -> str:
    low, high = row["good_lr_min"], row["good_lr_max"]
    if math.isnan(low):
        return "none"
    return format_lr(low) if low == high else f"{format_lr(low)}..{format_lr(high)}"


def _epochs_text(row: pd.Series) -> str:
    if math.isnan(row["mean_best_epoch"]):
        return "none"
    return f"{row['mean_best_epoch']:.1f} of {int(row['max_epochs'])}"
