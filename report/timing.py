"""Rows whose ``train_time_s`` is not all training.

A results folder may hold ``timing_caveats.csv`` (written by whoever ran it, by
``mlflow_run_id``): ``paused`` rows include ``paused_s`` seconds when the process was stopped
(SIGSTOP), ``contended`` rows ran while another heavy process shared the CPU, by an amount
that cannot be known. The cost section subtracts the pauses and flags the contended rows.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from benchmarks.results.csv_check import read_checked

CAVEATS_FILE = "timing_caveats.csv"
CAUSES = ("paused", "contended")
_FIX = "Fix that row (see results/README.md, timing_caveats.csv) or delete the file"


def read_timing_caveats(results_dir: Path) -> pd.DataFrame | None:
    """The folder's timing caveats (columns mlflow_run_id, cause, paused_s), or None.

    Raises:
        ValueError: One line naming the file and the first row at fault: a missing column,
            an unknown cause, or a ``paused`` row without a non-negative ``paused_s``.
    """
    path = Path(results_dir) / CAVEATS_FILE
    if not path.is_file():
        return None
    text, _ = read_checked(path)
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    absent = [c for c in ("mlflow_run_id", "cause", "paused_s") if c not in frame.columns]
    if absent:
        raise ValueError(f"{CAVEATS_FILE} '{path}': columns mlflow_run_id, cause and paused_s "
                         f"must be present, but got no {absent}. {_FIX}.")
    frame["paused_s"] = pd.to_numeric(frame["paused_s"], errors="coerce")
    for line, row in zip(range(2, len(frame) + 2), frame.itertuples(index=False)):
        _check_row(path, line, row)
    return frame[["mlflow_run_id", "cause", "paused_s"]]


def _check_row(path: Path, line: int, row) -> None:
    if row.cause not in CAUSES:
        raise ValueError(f"{CAVEATS_FILE} '{path}' line {line}: cause must be one of "
                         f"{', '.join(CAUSES)}, but got {row.cause!r}. {_FIX}.")
    if row.cause == "paused" and not row.paused_s >= 0:
        raise ValueError(f"{CAVEATS_FILE} '{path}' line {line}: a paused row needs paused_s, "
                         f"the seconds of pause, >= 0, but got {row.paused_s!r}. {_FIX}.")


def apply_timing_caveats(final: pd.DataFrame, caveats: pd.DataFrame | None) -> pd.DataFrame:
    """``final`` with each paused row's ``paused_s`` taken off its ``train_time_s`` and a
    boolean column ``time_contended`` (False everywhere without caveats)."""
    final = final.assign(time_contended=False)
    if caveats is None or "mlflow_run_id" not in final:
        return final
    paused = caveats[caveats["cause"] == "paused"].groupby("mlflow_run_id")["paused_s"].sum()
    contended = set(caveats.loc[caveats["cause"] == "contended", "mlflow_run_id"])
    pause = final["mlflow_run_id"].map(paused).fillna(0.0)
    return final.assign(train_time_s=final["train_time_s"] - pause,
                        time_contended=final["mlflow_run_id"].isin(contended))


def caveat_text(final: pd.DataFrame, caveats: pd.DataFrame | None) -> str:
    """One sentence for the cost section: how many seeds' times were corrected or are
    inflated, and in which cells; '' when no final row has a caveat.

    Args:
        final: Rows of ``final.csv`` as :func:`apply_timing_caveats` returns them.
        caveats: What :func:`read_timing_caveats` read, or None.
    """
    if caveats is None or "mlflow_run_id" not in final:
        return ""
    paused = final["mlflow_run_id"].isin(
        caveats.loc[caveats["cause"] == "paused", "mlflow_run_id"]).sum()
    contended = final[final["time_contended"]]
    parts = []
    if paused:
        parts.append(f"{paused} seed(s) ran while the process was paused; their paused "
                     "seconds are subtracted")
    if not contended.empty:
        cells = sorted({f"{r.dataset}/n{r.n_train}/{r.strategy}"
                        for r in contended.itertuples(index=False)})
        parts.append(f"{len(contended)} seed(s) shared the CPU with another process, so "
                     f"their times are too high by an unknown amount ({', '.join(cells)}; "
                     "contended_seeds in cost_points.csv)")
    return f" {CAVEATS_FILE}: " + "; ".join(parts) + "." if parts else ""
