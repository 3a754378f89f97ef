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

from benchmarks.results.csv_check import CELL_KEYS, CellId, read_checked
from benchmarks.results.macro import MACRO_COLUMNS, macro_from_counts

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
        "seed", "trial", "lr", "params", "test_acc", "test_macro_f1", "test_macro_precision",
        "test_macro_recall", "val_acc", "best_epoch",
        "epochs_run", "max_epochs", "trainable_params", "total_params", "train_time_s",
        "peak_mem_mb", "n_val", "n_test", "mlflow_run_id",
    ],
    "confusion": CELL_COLUMNS + [
        "seed", "true_idx", "true_class", "pred_idx", "pred_class", "count", "mlflow_run_id",
    ],
}
"""Columns of every table; documented one by one in ``results/README.md``."""

LATER_COLUMNS: dict[str, tuple[str, ...]] = {"final": MACRO_COLUMNS}
"""Columns added to a table after results folders were written without them. Such a folder
still resumes: :func:`upgrade_tables` rewrites the table with them (filled from
``confusion.csv``) before the run appends a row."""

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
        return _frame(_checked_text(path))


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Every table of ``folder``, each read once and checked whole: its columns are this
    version's or an earlier one's that :func:`upgrade_tables` upgrades (appending under
    others would shift every value into the wrong column), and every row and value passes
    :func:`benchmarks.results.csv_check.read_checked`. A table not written yet is empty, with
    its columns. Reads only: nothing is created.

    Raises:
        ValueError: one line naming the file and the line at fault.
    """
    tables = {}
    for table, columns in TABLES.items():
        path = folder / f"{table}.csv"
        if path.is_file() and path.stat().st_size > 0:
            _check_header(table, path, older=True)
            tables[table] = _frame(_checked_text(path))
        else:
            tables[table] = pd.DataFrame(columns=columns)
    return tables


def _frame(text: str) -> pd.DataFrame:
    """A checked table's text as a DataFrame (an empty cell is NaN, no other text is)."""
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def values_by_cell(rows: pd.DataFrame, column: str) -> dict[CellId, set[int]]:
    """The whole-number values of ``column`` (``trial``, ``seed``) in each cell's ``rows`` (a
    table as read back), cells named by (backbone, dataset, n_train, strategy)."""
    if rows.empty:
        return {}
    grouped = rows.groupby(list(CELL_KEYS))[column]
    return {(b, d, int(n), s): {int(v) for v in values} for (b, d, n, s), values in grouped}


def upgrade_tables(folder: Path) -> list[str]:
    """Rewrite each table of ``folder`` written without its :data:`LATER_COLUMNS` with this
    version's columns: every row and value kept, the new columns filled (``final``'s macro
    precision and recall from the seed's ``confusion.csv`` counts, empty where it has none).
    Atomic: a temporary file replaces the table. Run before any worker appends.

    Returns:
        The tables upgraded.
    """
    upgraded = []
    for table, later in LATER_COLUMNS.items():
        path = folder / f"{table}.csv"
        if not path.is_file() or path.stat().st_size == 0 or _header(path) == TABLES[table]:
            continue
        _check_header(table, path, older=True)
        rows = pd.read_csv(io.StringIO(_checked_text(path)), dtype=str, keep_default_na=False)
        filled = _later_values(folder, rows)
        rows = rows.assign(**{c: filled.get(c, "") for c in later})[TABLES[table]]
        _replace(path, rows.to_csv(index=False, lineterminator="\r\n"))
        upgraded.append(table)
    return upgraded


def _later_values(folder: Path, final: pd.DataFrame) -> dict[str, list[str]]:
    """``final``'s macro precision and recall per row, from ``confusion.csv`` (text)."""
    confusion = folder / "confusion.csv"
    if not confusion.is_file() or confusion.stat().st_size == 0 or final.empty:
        return {}
    counts = pd.read_csv(io.StringIO(_checked_text(confusion)), dtype={"mlflow_run_id": str})
    scores = macro_from_counts(counts).set_index("mlflow_run_id")
    return {c: [_cell(float(scores.at[r, c])) if r in scores.index else ""
                for r in final["mlflow_run_id"]] for c in MACRO_COLUMNS}


def _replace(path: Path, text: str) -> None:
    """``path``'s content becomes ``text``: written to a temporary file beside it, synced,
    renamed over it."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(text.encode())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _checked_text(path: Path) -> str:
    """The table's text, every row checked (:func:`benchmarks.results.csv_check.read_checked`),
    read under a shared lock so that no row is being appended by another worker meanwhile."""
    with path.open("rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
        return read_checked(path)[0]


def _header(path: Path) -> list[str]:
    """The first row of a CSV file (a spreadsheet's UTF-8 byte-order mark left out)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh), [])


def _check_header(table: str, path: Path, older: bool = False) -> None:
    """Appending under another header would shift every value into the wrong column;
    ``older``: a header without the table's :data:`LATER_COLUMNS` will be upgraded."""
    header = _header(path)
    earlier = [c for c in TABLES[table] if c not in LATER_COLUMNS.get(table, ())]
    if header != TABLES[table] and not (older and header == earlier):
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
