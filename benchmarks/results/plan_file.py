"""``plan.json`` of a results folder, read and checked: the cells of the latest run, their
budgets, the seeds and when it started (what ``ftbench status`` measures progress against)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.results.csv_check import CellId
from benchmarks.results.verdicts import MARGIN

_NO_PLAN_FIX = "Run `ftbench run SUITE` first; plan.json is written when a run starts"


def read_plan(folder: Path) -> dict[str, Any]:
    """plan.json, checked: suite, trials_per_cell, seeds, cells (id, key, max_epochs), started."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"results folder '{folder}': it must be a folder, but it is a file. "
                         "Pass the folder `ftbench run` wrote, e.g. results/quickstart.")
    if not folder.is_dir():
        raise ValueError(f"results folder '{folder}': it must exist, but it does not. "
                         f"{_NO_PLAN_FIX}.")
    path = folder / "plan.json"
    if not path.is_file():
        raise ValueError(f"results folder '{folder}': it must hold plan.json, but it does not. "
                         f"{_NO_PLAN_FIX} (an older run: run it again to resume and write it).")
    try:
        raw = json.loads(path.read_text())
        return {"suite": _check(raw, "suite", str),
                "trials_per_cell": _check(raw, "trials_per_cell", int),
                "seeds": _seeds(_check(raw, "seeds", list)),
                "seeds_within_reach": _seeds(_check({"seeds_within_reach": [], **raw},
                                                    "seeds_within_reach", list)),
                "margin": float(raw.get("margin", MARGIN)),
                "cells": [_plan_cell(c) for c in _check(raw, "cells", list)],
                "started": _started(raw.get("started"))}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"plan file '{path}': it must be the JSON that `ftbench run` writes, "
                         f"but it is not ({type(exc).__name__}: {exc}). Run `ftbench run SUITE` "
                         f"again to rewrite it (rows already written are kept).") from None


def _check(raw: dict, name: str, kind: type) -> Any:
    """``raw[name]``, which must be of ``kind`` (a bool is no int, an int no negative)."""
    value = raw[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"'{name}' must be {kind.__name__}, got {value!r}")
    if kind is int and value < 0:
        raise ValueError(f"'{name}' must be >= 0, got {value}")
    return value


def _seeds(values: list) -> set[int]:
    """A list of seeds of plan.json, each checked."""
    return {_check({"seed": s}, "seed", int) for s in values}


def _plan_cell(raw: dict) -> tuple[CellId, str, int]:
    """One plan cell: its identity as in the CSV columns, its key, its epoch budget."""
    cell_id = (_check(raw, "backbone", str), _check(raw, "dataset", str),
               _check(raw, "n_train", int), _check(raw, "strategy", str))
    key = raw.get("key") or "{}/{}/n{}/{}".format(*cell_id)
    return cell_id, key, _check(raw, "max_epochs", int)


def _started(value: Any) -> datetime | None:
    """The ISO start time of plan.json, as UTC if it names no zone."""
    moment = None if value is None else datetime.fromisoformat(value)
    return moment.replace(tzinfo=timezone.utc) if moment and not moment.tzinfo else moment
