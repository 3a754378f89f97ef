"""Where a suite stands, read from its results folder alone: cells, trials, seeds, time left.

Only plan.json, trials.csv and final.csv of ``results/<suite>/`` are read, never MLflow or
Optuna, so a running, resumed or multi-worker suite can be checked wherever the folder is seen.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.results.csv_check import CellId, csv_float, read_checked
from benchmarks.results.plan_file import read_plan
from benchmarks.results.reach import Size, text_rows_frame, within_reach
from benchmarks.results.speed import Speed, measure_speed, seconds_left

STATES = ("COMPLETE", "PRUNED", "FAIL", "SKIPPED")
"""Trial states of ``trials.csv``, in display order."""


@dataclass(frozen=True)
class CellProgress:
    """One planned cell and how far its trials and final seeds went."""

    key: str
    max_epochs: int
    n_train: int
    strategy: str
    trials_done: int  # trial rows of any status (pruned and failed trials use the budget),
    # except those of interrupted trials that another row retries (``retry_of``)
    trials_complete: int
    trials_planned: int
    seeds_done: int  # distinct planned seeds with a final.csv row
    seeds_planned: int
    seeds_within_reach: int = 0  # of seeds_planned, those its size's verdict added

    @property
    def seeds_owed(self) -> int:
        """Final seeds to expect: none once the budget is spent without a COMPLETE trial."""
        spent = self.trials_done >= self.trials_planned
        return 0 if spent and self.trials_complete == 0 else self.seeds_planned

    @property
    def done(self) -> bool:
        """Every trial of the budget and every owed seed has its row."""
        return self.trials_done >= self.trials_planned and self.seeds_done >= self.seeds_owed

    @property
    def started(self) -> bool:
        """Some row of this cell exists."""
        return self.trials_done > 0 or self.seeds_done > 0

    @property
    def units_left(self) -> dict[str, int]:
        """Trainings still to run, by kind: ``trial`` and ``final`` (seeds)."""
        return {"trial": max(0, self.trials_planned - self.trials_done),
                "final": max(0, self.seeds_owed - self.seeds_done)}

    @property
    def epochs_left(self) -> int:
        """Budgeted epochs still to run: (trials left + seeds left) x max_epochs."""
        return sum(self.units_left.values()) * self.max_epochs

    @property
    def images_left(self) -> int:
        """Budgeted training image-epochs still to run: epochs left x n_train."""
        return self.epochs_left * self.n_train


@dataclass(frozen=True)
class SuiteStatus:
    """Where a suite stands (see :func:`suite_status`); totals are properties over ``cells``."""

    suite: str
    cells: tuple[CellProgress, ...]  # every planned cell, in plan order
    states: dict[str, int]  # trial rows of planned cells per status, every one of STATES
    speed: Speed  # timing of all rows of trials.csv and final.csv, per strategy
    ignored_rows: int  # rows of cells or seeds that plan.json does not list
    partial_rows: int  # last rows without their end of line (being written, or cut short)
    started: datetime | None  # the latest run's start, from plan.json
    last_update: datetime | None  # modification time of the newer of trials.csv, final.csv
    last_update_file: str  # which of the two (empty if neither exists)

    @property
    def train_time_s(self) -> float:
        """Sum of train_time_s over all rows of trials.csv and final.csv."""
        return self.speed.total.time_s

    @property
    def cells_done(self) -> int:
        """Cells with every trial and owed seed done."""
        return sum(c.done for c in self.cells)

    @property
    def cells_in_progress(self) -> int:
        """Cells with some rows but not done."""
        return sum(c.started and not c.done for c in self.cells)

    @property
    def cells_not_started(self) -> int:
        """Cells without any row."""
        return sum(not c.started for c in self.cells)

    @property
    def trials_done(self) -> int:
        """Trial rows of planned cells, any status."""
        return sum(c.trials_done for c in self.cells)

    @property
    def trials_planned(self) -> int:
        """The trial budget of the whole suite."""
        return sum(c.trials_planned for c in self.cells)

    @property
    def seeds_done(self) -> int:
        """final.csv rows of planned cells and seeds."""
        return sum(c.seeds_done for c in self.cells)

    @property
    def seeds_planned(self) -> int:
        """Final rows to expect (cells without a COMPLETE trial owe none)."""
        return sum(c.seeds_owed for c in self.cells)

    @property
    def epochs_left(self) -> int:
        """Budgeted epochs of every unfinished cell (an upper bound: pruning stops early)."""
        return sum(c.epochs_left for c in self.cells if not c.done)

    @property
    def images_left(self) -> int:
        """Budgeted training image-epochs of every unfinished cell."""
        return sum(c.images_left for c in self.cells if not c.done)

    @property
    def time_left_s(self) -> float | None:
        """An upper bound of the seconds left: every unfinished cell's budgeted image-epochs
        at its strategy's measured seconds per image (any strategy's before its own is
        timed); None before any epoch is timed."""
        return seconds_left(self.cells, self.speed, expected=False)

    @property
    def expected_left_s(self) -> float | None:
        """:attr:`time_left_s` with each training's budget cut to the share of it that the
        strategy's trials (or final seeds) ran so far: pruning and early stopping."""
        return seconds_left(self.cells, self.speed, expected=True)


def suite_status(folder: Path) -> SuiteStatus:
    """Read where the suite of ``folder`` (``results/<suite>/``) stands.

    Args:
        folder: a results folder holding ``plan.json``.

    Raises:
        ValueError: the folder or its plan.json is missing, or plan.json is corrupt.
    """
    plan = read_plan(folder)
    trials, trials_cut = read_rows(folder / "trials.csv")
    final, final_cut = read_rows(folder / "final.csv")
    by_cell, ignored = _rows_by_cell(plan, trials, final)
    mine = [row for cell_trials, _ in by_cell.values() for row in cell_trials]
    updated, updated_file = _last_update(folder)
    reached = _reached(plan, [row for _, rows in by_cell.values() for row in rows])
    cells = tuple(_progress(c, plan, *by_cell[c[0]], c[0][:3] in reached)
                  for c in plan["cells"])
    return SuiteStatus(
        suite=plan["suite"], cells=cells,
        states={s: sum(r.get("status") == s for r in mine) for s in STATES},
        speed=measure_speed(trials, final), ignored_rows=ignored,
        partial_rows=trials_cut + final_cut, started=plan["started"], last_update=updated,
        last_update_file=updated_file)


def _rows_by_cell(plan: dict[str, Any], trials: list[dict[str, str]],
                  final: list[dict[str, str]]) -> tuple[dict[CellId, tuple[list, list]], int]:
    """Trial and final rows of each planned cell; and how many rows fit no planned cell/seed."""
    by_cell: dict[CellId, tuple[list, list]] = {c[0]: ([], []) for c in plan["cells"]}
    ignored = 0
    seeds = plan["seeds"] | plan["seeds_within_reach"]
    for table, rows in enumerate((trials, final)):
        for row in rows:
            cell = by_cell.get(_row_cell(row))
            if cell is None or (table == 1 and _int(row.get("seed")) not in seeds):
                ignored += 1
            else:
                cell[table].append(row)
    return by_cell, ignored


def _reached(plan: dict[str, Any], final: list[dict[str, str]]) -> set[Size]:
    """The sizes that get the plan's seeds within reach (:mod:`benchmarks.results.reach`),
    judged from the final rows of its planned cells."""
    if not plan["seeds_within_reach"] or not final:
        return set()
    strategies = sorted({c[0][3] for c in plan["cells"]})
    return within_reach(text_rows_frame(final), strategies, sorted(plan["seeds"]),
                        sorted(plan["seeds_within_reach"]), plan["margin"])


def read_rows(path: Path) -> tuple[list[dict[str, str]], int]:
    """Rows of a results CSV (none if missing), every one checked, less a last line without
    its end of line (being written by a run, or cut short); and 1 if there was such a line.

    Raises:
        ValueError: a damaged row, naming its line
            (:func:`benchmarks.results.csv_check.read_checked`).
    """
    if not path.is_file():
        return [], 0
    text, dropped = read_checked(path, tail="drop")
    return list(csv.DictReader(io.StringIO(text))), int(dropped)


def _row_cell(row: dict[str, str]) -> CellId | None:
    """The cell a CSV row belongs to; None if its cell columns are unreadable."""
    n_train = _int(row.get("n_train"))
    if n_train is None:
        return None
    return row.get("backbone") or "", row.get("dataset") or "", n_train, row.get("strategy") or ""


def _int(text: str | None) -> int | None:
    """An integer CSV value (``30`` or ``30.0``); None if empty or unreadable."""
    value = csv_float(text)
    return None if value is None else int(value)


def _progress(cell: tuple[CellId, str, int], plan: dict[str, Any],
              trials: list[dict[str, str]], final: list[dict[str, str]],
              reached: bool = False) -> CellProgress:
    """How far one planned cell went, from its own rows (``reached``: its seeds within
    reach are due too)."""
    (_, _, n_train, strategy), key, max_epochs = cell
    extra = len(plan["seeds_within_reach"]) if reached else 0
    retried = {_int(r.get("retry_of")) for r in trials} - {None}
    trials = [r for r in trials if _int(r.get("trial")) not in retried]  # void: run again
    return CellProgress(key, max_epochs, n_train, strategy, trials_done=len(trials),
                        trials_complete=sum(r.get("status") == "COMPLETE" for r in trials),
                        trials_planned=plan["trials_per_cell"],
                        seeds_done=len({_int(r.get("seed")) for r in final}),
                        seeds_planned=len(plan["seeds"]) + extra, seeds_within_reach=extra)


def _last_update(folder: Path) -> tuple[datetime | None, str]:
    """Modification time and name of the newer of trials.csv and final.csv."""
    found = [(p.stat().st_mtime, p.name) for p in (folder / "trials.csv", folder / "final.csv")
             if p.is_file()]
    if not found:
        return None, ""
    mtime, name = max(found)
    return datetime.fromtimestamp(mtime, timezone.utc), name
