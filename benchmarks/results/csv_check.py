"""Check a results CSV line by line before any reader trusts it: whole rows only, each with
as many fields as the header, the cell columns filled in, each value of its kind (an accuracy
in [0, 1], a count a whole number >= 0, never NaN) and no cell's seed or trial twice.

A row cut short (a run killed while writing it, a truncated copy) would otherwise be read as
a valid row with empty cells: a blank strategy in the report, a seed counted in ``status``;
a damaged value (``nan``, ``banana``, ``7.5``) would turn a cell into "not run" or into an
accuracy of 7.5, and a repeated row would count as a second seed.

ftbench writes CRLF line ends (the csv module's); a copy saved by a spreadsheet or an editor
reads the same with LF or CR line ends, a UTF-8 byte-order mark, a CR doubled before each LF
(CR CR LF, from a tool that added a CR to every LF), or blank lines, which hold no row.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

_LINE_END = re.compile(r"\r*\n|\r")
"""A line end: LF, CRLF, CR, or CRs doubled before an LF."""

CELL_KEYS = ("backbone", "dataset", "n_train", "strategy")
"""Columns that say which cell a row belongs to; a row with one of them empty is no result."""
CellId = tuple[str, str, int, str]
"""A cell as the :data:`CELL_KEYS` columns of its rows name it."""


def read_checked(path: Path, tail: str = "error") -> tuple[str, bool]:
    """The text of ``path`` once every line has been checked.

    Args:
        path: a CSV table of a results folder (header first).
        tail: what a last line without its newline is: ``"error"`` (a damaged file), or
            ``"drop"`` (maybe a row that a run is appending right now, for a reader that
            takes no lock: left out of the text).

    Returns:
        The checked text, and whether a partial last line was dropped.

    Raises:
        ValueError: one line naming the file, the line at fault and how to fix it.
    """
    text = _decoded(path)
    dropped = bool(text) and not text.endswith("\n")
    if dropped:
        cut = text.count("\n") + 1
        if tail == "error":
            raise ValueError(f"results file '{path}': line {cut} must be a whole row, but it "
                             f"is cut short (no end of line). {_FIX}.")
        text = text[: text.rfind("\n") + 1]
    _check_rows(path, text)
    check_values(path, text)
    return text, dropped


def check_values(path: Path, text: str) -> None:
    """Raise one line naming the first value of ``text`` (a table of a results folder, known
    by its file name; other files pass) that is not of its column's kind, or the first row
    that repeats a cell's seed (``final``) or trial (``trials``).

    An empty value passes where the writers leave one empty (a failed trial has no
    accuracy); :data:`REQUIRED` names the columns that every row fills in.
    """
    table = path.stem
    if table not in KINDS:
        return
    reader = csv.DictReader(io.StringIO(text))
    seen: dict[tuple, int] = {}
    for row in reader:
        line = reader.line_num
        for column, kind in KINDS[table].items():
            value = (row.get(column) or "").strip()
            if value or (column in REQUIRED[table] and column in row):
                _check_value(path, table, line, column, kind, value)
        if (key := _row_key(table, row)) is not None:
            if key in seen:
                raise ValueError(_repeated(path, table, line, seen[key], key))
            seen[key] = line


def csv_float(text: str | None) -> float | None:
    """A number of a CSV cell (``30``, ``30.0``, ``0.5``); None if empty or unreadable."""
    try:
        return float(text) if text else None
    except ValueError:
        return None


_FIX = ("ftbench writes each row in one piece, so the file itself was damaged (a copy cut "
        "short, a full disk): restore it from a copy, or move the results folder away")


FRACTION, COUNT, AMOUNT, STATUS = "a fraction in [0, 1]", "a whole number >= 0", \
    "a number >= 0", "one of COMPLETE, PRUNED, FAIL, SKIPPED"
_SHARED = {"n_train": COUNT, "trial": COUNT, "val_acc": FRACTION, "best_epoch": COUNT,
           "epochs_run": COUNT, "max_epochs": COUNT, "trainable_params": COUNT,
           "total_params": COUNT, "train_time_s": AMOUNT, "peak_mem_mb": AMOUNT,
           "n_val": COUNT, "lr": AMOUNT}
KINDS: dict[str, dict[str, str]] = {
    "trials": {**_SHARED, "retry_of": COUNT, "status": STATUS},
    "final": {**_SHARED, "seed": COUNT, "test_acc": FRACTION, "test_macro_f1": FRACTION,
              "test_macro_precision": FRACTION, "test_macro_recall": FRACTION,
              "n_test": COUNT},
    "epochs": {"n_train": COUNT, "trial": COUNT, "epoch": COUNT, "val_acc": FRACTION,
               "trainable_params": COUNT},
    "confusion": {"n_train": COUNT, "seed": COUNT, "true_idx": COUNT, "pred_idx": COUNT,
                  "count": COUNT},
}
"""What each value of a table must be (``results/README.md`` documents the columns)."""
REQUIRED: dict[str, tuple[str, ...]] = {
    "trials": ("n_train", "trial", "status"), "final": ("n_train", "seed", "test_acc"),
    "epochs": ("n_train", "trial", "epoch"),
    "confusion": ("n_train", "seed", "true_idx", "pred_idx", "count"),
}
"""Columns no row of the table leaves empty (the others are empty where nothing was
measured: the accuracy of a failed trial, ``retry_of`` of a first try)."""
_UNIQUE = {"final": "seed", "trials": "trial"}
"""The column that, with the cell, names one row of the table: a cell's seed, its trial."""
_AGAIN = {"final": " to run that seed again", "trials": " to run that trial again"}


def _check_value(path: Path, table: str, line: int, column: str, kind: str,
                 value: str) -> None:
    """Raise one line unless ``value`` (of ``column``, on ``line``) is of ``kind``."""
    if _is_kind(value, kind):
        return
    shown = f"'{value}'" if value else "nothing (empty)"
    raise ValueError(f"results file '{path}': line {line} must have {column} {kind}, but got "
                     f"{shown}. Restore the file from a copy, or delete line {line}"
                     f"{_AGAIN.get(table, '')}.")


def _is_kind(value: str, kind: str) -> bool:
    """Whether the CSV text ``value`` is of ``kind`` (NaN and infinities never are)."""
    if kind == STATUS:
        return value in ("COMPLETE", "PRUNED", "FAIL", "SKIPPED")
    number = csv_float(value)
    if number is None or not math.isfinite(number) or number < 0:
        return False
    return (kind != FRACTION or number <= 1) and (kind != COUNT or number.is_integer())


def _row_key(table: str, row: dict[str, str]) -> tuple | None:
    """The cell and seed (or trial) that name ``row``; None for tables without such a key."""
    column = _UNIQUE.get(table)
    if column is None:
        return None
    return (*(csv_float(row.get(c)) if c == "n_train" else row.get(c) for c in CELL_KEYS),
            csv_float(row.get(column)))


def _repeated(path: Path, table: str, line: int, first: int, key: tuple) -> str:
    """The one line that says ``line`` repeats the row of ``first``."""
    column = _UNIQUE[table]
    cell = f"{key[0]}/{key[1]}/n{int(key[2])}/{key[3]}"
    return (f"results file '{path}': line {line} must be the only row of cell {cell} "
            f"{column} {int(key[4])}, but line {first} has it too (a copy or merge that "
            f"repeated rows). Restore the file from a copy, or delete line {line} (both "
            f"lines{_AGAIN[table]}).")


def _decoded(path: Path) -> str:
    """The file as UTF-8 text (without a byte-order mark), every line end made LF."""
    try:
        return _LINE_END.sub("\n", path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"results file '{path}': it must be UTF-8 CSV text, but byte "
                         f"{exc.start} is not. Restore it from a copy or move the folder "
                         "away.") from None


def _check_rows(path: Path, text: str) -> None:
    """Every row has the header's field count and its cell columns filled in; a blank line
    is no row (pandas and ``csv.DictReader`` skip it too)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    keys = [header.index(c) for c in CELL_KEYS if c in header]
    for row in reader:
        if not row:
            continue
        line = reader.line_num
        if len(row) != len(header):
            raise ValueError(f"results file '{path}': line {line} must have {len(header)} "
                             f"fields like the header, but it has {len(row)}. The row is "
                             "damaged: restore the file from a copy, or delete that line "
                             "(its trial is then run again).")
        empty = [header[k] for k in keys if not row[k].strip()]
        if empty:
            raise ValueError(f"results file '{path}': line {line} must name its cell, but "
                             f"{', '.join(empty)} is empty. Restore the file from a copy, or "
                             "delete that line.")
