"""Check a results CSV line by line before any reader trusts it: whole rows only, each with
as many fields as the header, and the cell columns filled in.

A row cut short (a run killed while writing it, a truncated copy) would otherwise be read as
a valid row with empty cells: a blank strategy in the report, a seed counted in ``status``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

CELL_KEYS = ("backbone", "dataset", "n_train", "strategy")
"""Columns that say which cell a row belongs to; a row with one of them empty is no result."""


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
    return text, dropped


def csv_float(text: str | None) -> float | None:
    """A number of a CSV cell (``30``, ``30.0``, ``0.5``); None if empty or unreadable."""
    try:
        return float(text) if text else None
    except ValueError:
        return None


_FIX = ("ftbench writes each row in one piece, so the file itself was damaged (a copy cut "
        "short, a full disk): restore it from a copy, or move the results folder away")


def _decoded(path: Path) -> str:
    """The file as UTF-8 text."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"results file '{path}': it must be UTF-8 CSV text, but byte "
                         f"{exc.start} is not. Restore it from a copy or move the folder "
                         "away.") from None


def _check_rows(path: Path, text: str) -> None:
    """Every row has the header's field count and its cell columns filled in."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    keys = [header.index(c) for c in CELL_KEYS if c in header]
    for row in reader:
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
