"""``ftbench compare A B``: two results folders side by side, cell by cell.

Cells both folders ran (same backbone, dataset, training size and strategy) get the
difference of their mean test accuracy, B minus A, with a 95% interval and a t-test: paired by
seed where both ran the same 2+ seeds (a seed fixes the split and the initialisation, so it
pairs the runs however the code or machine differed), else Welch's (independent); cells only
one folder ran
join the same table with that folder's numbers alone, so two suites of different backbones
or datasets make one combined table.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.results.verdicts import MARGIN, points_text
from report.render import Table, render_markdown

KEYS = ["backbone", "dataset", "n_train", "strategy"]
COLUMNS = [*KEYS, "ran_in", "a_mean", "a_n", "b_mean", "b_n", "diff", "diff_low", "diff_high",
           "p_value", "verdict"]


def compare_finals(a: pd.DataFrame, b: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """One row per cell of either ``final.csv`` (columns :data:`COLUMNS`).

    ``verdict``: ``B better`` / ``B worse`` when the whole interval of B - A lies above /
    below the margin, ``within the margin`` when it lies inside it, ``inconclusive``
    otherwise; empty for a cell only one folder ran.
    """
    left, right = _cells(a), _cells(b)
    merged = left.merge(right, on=KEYS, how="outer", suffixes=("_a", "_b"), indicator="ran")
    rows = [_row(r, margin) for r in merged.itertuples(index=False)]
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(KEYS, kind="stable").reset_index(drop=True)


def _cells(final: pd.DataFrame) -> pd.DataFrame:
    """Per cell: its test accuracy by seed, as a dict."""
    grouped = final.groupby(KEYS, sort=True)[["seed", "test_acc"]].apply(
        lambda g: {int(k): float(v) for k, v in zip(g["seed"], g["test_acc"])
                   if math.isfinite(v)})
    return grouped.rename("acc").reset_index()


def _row(r, margin: float) -> dict:
    a = r.acc_a if isinstance(r.acc_a, dict) else {}
    b = r.acc_b if isinstance(r.acc_b, dict) else {}
    ran_in = {"both": "both", "left_only": "A only", "right_only": "B only"}[r.ran]
    row = {"backbone": r.backbone, "dataset": r.dataset, "n_train": int(r.n_train),
           "strategy": r.strategy, "ran_in": ran_in,
           "a_mean": float(np.mean(list(a.values()))) if a else math.nan, "a_n": len(a),
           "b_mean": float(np.mean(list(b.values()))) if b else math.nan, "b_n": len(b)}
    shared = sorted(set(a) & set(b))
    if len(shared) >= 2:
        low, high, p_value = _paired([a[s] for s in shared], [b[s] for s in shared])
    else:
        low, high, p_value = _welch(list(a.values()), list(b.values()))
    diff = row["b_mean"] - row["a_mean"]
    return {**row, "diff": diff, "diff_low": low, "diff_high": high, "p_value": p_value,
            "verdict": _verdict(ran_in, low, high, margin)}


def _paired(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """95% interval of the mean per-seed difference b - a, and the paired t-test's p."""
    diffs = np.asarray(b) - np.asarray(a)
    mean, sd = float(diffs.mean()), float(diffs.std(ddof=1))
    if sd == 0:
        return mean, mean, (1.0 if mean == 0 else 0.0)
    half = float(stats.t.ppf(0.975, len(diffs) - 1)) * sd / math.sqrt(len(diffs))
    return mean - half, mean + half, float(stats.ttest_rel(b, a).pvalue)


def _welch(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """95% Welch interval of mean(b) - mean(a) and the two-sided p; NaN with < 2 each."""
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan, math.nan
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    diff = float(np.mean(b) - np.mean(a))
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, (1.0 if diff == 0 else 0.0)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.975, dof)) * se
    p_value = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
    return diff - half, diff + half, p_value


def _verdict(ran_in: str, low: float, high: float, margin: float) -> str:
    if ran_in != "both":
        return ""
    if math.isnan(low):
        return "inconclusive (fewer than 2 seeds)"
    if low > margin:
        return "B better"
    if high < -margin:
        return "B worse"
    if -margin < low and high < margin:
        return "within the margin"
    return "inconclusive"


def summary_lines(a: Path, b: Path, table: pd.DataFrame, margin: float) -> list[str]:
    """What ``ftbench compare`` prints above the table."""
    both = table[table["ran_in"] == "both"]
    counts = both["verdict"].value_counts()
    shown = ", ".join(f"{n} {label}" for label, n in counts.items()) or "none"
    return [f"A: {a}", f"B: {b}",
            (f"{len(both)} cells in both (B - A test accuracy, 95% interval, paired by seed "
             f"where both ran the same seeds; margin {points_text(margin)}): {shown}"),
            (f"{int((table['ran_in'] == 'A only').sum())} cells only in A, "
            f"{int((table['ran_in'] == 'B only').sum())} only in B")]


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, accuracies to 3 decimals and differences in points."""
    shown = table.assign(
        diff=[_points(d, lo, hi) for d, lo, hi in zip(table["diff"], table["diff_low"],
                                                      table["diff_high"])])
    shown = shown.drop(columns=["diff_low", "diff_high"])
    return render_markdown([Table(shown)])


def _points(diff: float, low: float, high: float) -> str:
    if math.isnan(diff):
        return "—"
    if math.isnan(low):
        return f"{diff * 100:+.1f}"
    return f"{diff * 100:+.1f} [{low * 100:+.1f}, {high * 100:+.1f}]"
