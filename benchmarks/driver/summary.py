"""A finished cell in a few numbers, from its rows in the results tables: what its MLflow
parent run logs and what a log line says when no progress bar shows."""

from __future__ import annotations

from typing import Any


def cell_summary(run: Any) -> dict[str, float]:
    """``best_val_acc`` (COMPLETE trials) and ``test_acc_mean``, ``test_macro_f1_mean``,
    ``n_seeds`` (final seeds) of the cell, from its rows in the results tables."""
    mine = {k: run.base_row()[k] for k in ("backbone", "dataset", "n_train", "strategy")}
    out: dict[str, float] = {}
    trials = _rows_of(run.writer.read("trials"), mine)
    done = trials[trials["status"] == "COMPLETE"] if not trials.empty else trials
    if not done.empty:
        out["best_val_acc"] = float(done["val_acc"].astype(float).max())
    final = _rows_of(run.writer.read("final"), mine)
    if not final.empty:
        out["test_acc_mean"] = float(final["test_acc"].astype(float).mean())
        out["test_macro_f1_mean"] = float(final["test_macro_f1"].astype(float).mean())
        out["n_seeds"] = float(final["seed"].nunique())
    return out


def _rows_of(table, cell: dict) -> Any:
    """The rows of ``table`` (a DataFrame) that belong to ``cell``."""
    if table.empty:
        return table
    keep = (table["backbone"].astype(str) == cell["backbone"]) & (
        table["dataset"].astype(str) == cell["dataset"]) & (
        table["n_train"].astype(int) == int(cell["n_train"])) & (
        table["strategy"].astype(str) == cell["strategy"])
    return table[keep]
