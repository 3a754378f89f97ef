"""The tidy result tables under ``results/<suite>/``: one CSV row per trial, epoch and seed."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.results.csv_check import read_checked

CELL_COLUMNS = ["suite", "backbone", "dataset", "family", "n_train", "size", "regime",
                "strategy"]

TABLES: dict[str, list[str]] = {
    "trials": CELL_COLUMNS + [
        "trial", "is_default", "retry_of", "status", "reason", "lr", "params", "val_acc",
        "best_epoch", "epochs_run", "max_epochs", "trainable_params", "total_params",
        "train_time_s", "peak_mem_mb", "n_val", "mlflow_run_id",
    ],
    "epochs": CELL_COLUMNS + ["trial", "epoch", "train_loss", "val_acc", "trainable_params"],
    "final": CELL_COLUMNS + [
        "seed", "trial", "lr", "params", "test_acc", "test_macro_f1", "val_acc", "best_epoch",
        "epochs_run", "max_epochs", "trainable_params", "total_params", "train_time_s",
        "peak_mem_mb", "n_val", "n_test", "mlflow_run_id",
    ],
    "confusion": CELL_COLUMNS + [
        "seed", "true_idx", "true_class", "pred_idx", "pred_class", "count", "mlflow_run_id",
    ],
}
"""Columns of every table; documented one by one in ``results/README.md``."""

DURABLE = {"trials", "final", "confusion"}
"""Tables whose rows are forced to disk one by one (``epochs`` rows are only flushed)."""


class ResultsWriter:
    """Appends rows to the CSV tables of one results folder, flushed to disk row by row.

    Each append holds an exclusive ``flock`` on the file, so worker processes on one machine
    can share a results folder: no row is split or interleaved, and the header is written once.
    """

    def __init__(self, folder: Path) -> None:
        """Open (and create) ``folder``.

        Raises:
            ValueError: one line, if the folder cannot be created or written to.
        """
        self.folder = folder
        self._checked: set[str] = set()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):  # a probe: nothing is left behind
                pass
        except OSError as exc:
            raise ValueError(f"results folder '{folder}': it must be a writable folder, but "
                             f"{exc.strerror or exc}. Fix its permissions or pass --results-dir "
                             "another parent folder.") from None

    def path(self, table: str) -> Path:
        """The CSV file of ``table``."""
        return self.folder / f"{table}.csv"

    def append(self, table: str, row: Mapping[str, Any]) -> None:
        """Append one row; columns not in the table are an error, missing ones stay empty."""
        self.append_rows(table, [row])

    def append_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append ``rows`` under one lock, one flush (and one fsync for durable tables)."""
        columns = TABLES[table]
        extra = set().union(*rows) - set(columns)
        if extra:
            raise KeyError(f"table '{table}': columns {sorted(extra)} are not in its schema")
        path = self.path(table)
        with path.open("ab") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # several workers may append to one file
            text = io.StringIO(newline="")
            writer = csv.DictWriter(text, fieldnames=columns)
            if fh.seek(0, os.SEEK_END) == 0:
                writer.writeheader()
            elif table not in self._checked:
                _check_header(table, path)
            self._checked.add(table)
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
            _write_whole(fh.fileno(), text.getvalue().encode())
            if table in DURABLE:
                os.fsync(fh.fileno())

    def read(self, table: str) -> pd.DataFrame:
        """The table as a DataFrame (empty, with its columns, if nothing was written)."""
        path = self.path(table)
        if not path.exists() or path.stat().st_size == 0:
            return pd.DataFrame(columns=TABLES[table])
        text = _checked_text(path)
        return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def check_tables(folder: Path) -> None:
    """Raise one line if an existing table of ``folder`` has other columns than this version's
    (appending would shift every value into the wrong column), or a damaged row
    (:func:`benchmarks.results.csv_check.read_checked`). Reads only: nothing is created."""
    for table in TABLES:
        path = folder / f"{table}.csv"
        if path.is_file() and path.stat().st_size > 0:
            _check_header(table, path)
            _checked_text(path)


def _checked_text(path: Path) -> str:
    """The table's text, every row checked (:func:`benchmarks.results.csv_check.read_checked`),
    read under a shared lock so that no row is being appended by another worker meanwhile."""
    with path.open("rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
        return read_checked(path)[0]


def _check_header(table: str, path: Path) -> None:
    """Appending under another header would shift every value into the wrong column."""
    with path.open(newline="") as fh:
        header = next(csv.reader(fh), [])
    if header != TABLES[table]:
        raise ValueError(
            f"results file '{path}': its columns must be those of this ftbench version, but "
            f"they differ ({len(header)} vs {len(TABLES[table])} columns). Move the folder "
            f"away or pass --results-dir another parent folder; the old rows stay readable."
        )


def _write_whole(fd: int, data: bytes) -> None:
    """``data`` in one ``write`` call where the system takes it whole (a kill cannot stop a
    write to a local file halfway, so no row is ever cut short by one)."""
    while data:
        data = data[os.write(fd, data):]


def _cell(value: Any) -> Any:
    """Floats written with enough digits to round-trip; None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value
