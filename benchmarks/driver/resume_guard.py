"""May this run continue in an existing results folder? Only with the same suite (its
fingerprint), and only where the Optuna storage knows every trial the folder has rows of;
otherwise one line says what differs and the ways out, before any work or write. Each check
takes the folder as the run found it (:class:`benchmarks.results.folder_state.FolderState`),
read once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.data import TaskData
from benchmarks.data.ref import parse_sizes
from benchmarks.driver.grid import make_all_splits, resolve_plan
from benchmarks.results import fingerprint
from benchmarks.results.folder_state import FolderState
from benchmarks.suite.model import Suite

if TYPE_CHECKING:
    from benchmarks.driver.run_start import RunStart

EXTENDABLE = ("settings.seeds", "settings.seeds_within_reach", "settings.trials",
              "settings.strategies", "settings.sizes", "settings.epochs_by_size")
"""Changes ``--extend`` accepts: more seeds or seeds within reach (the old ones kept), more
trials (before any final seed ran, since more trials may change a cell's best
configuration), more strategies or training sizes (the old ones kept: their cells stay as
they are, the new ones are new cells; an added size may bring its own epoch budget, but an
old size keeps its own, and its training and validation split, :func:`check_splits_kept`)."""
_WAYS_OUT = ("Give the suite a new `name:`, pass another --results-dir, or move the folder "
             "away to start afresh")


def check_same_suite(folder: FolderState, current: dict[str, Any], extend: bool) -> bool:
    """Raise unless ``current`` may add rows to the folder; True when the fingerprint must be
    (re)written: the folder has none yet, or ``--extend`` changed it.

    Args:
        folder: the results folder as the run found it.
        current: this run's :func:`benchmarks.results.fingerprint.fingerprint`.
        extend: ``--extend``: accept more seeds, trials, strategies or sizes.
    """
    out, recorded = folder.path, folder.fingerprint
    if recorded is None:
        recorded = _legacy(folder, current)
        if recorded is None:
            return True
    changed = fingerprint.changed_keys(recorded, current)
    if not changed:
        return folder.fingerprint is None
    why_not = _why_not_extendable(recorded, current, changed, not folder.final.empty)
    if extend and why_not is None:
        return True
    shown = ", ".join(k.removeprefix("settings.") for k in changed[:8])
    more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
    if extend:
        tail = f"--extend cannot add them: {why_not}. {_WAYS_OUT}."
    elif why_not is None:
        tail = (f"Pass --extend to add the new seeds, trials, strategies or sizes. Or: "
                f"{_WAYS_OUT[0].lower()}{_WAYS_OUT[1:]}.")
    else:
        tail = f"{_WAYS_OUT}."
    raise ValueError(f"results folder '{out}': it must hold results of this same suite and "
                     f"data, but these differ from the run that made them: {shown}{more}. "
                     f"{tail}")


def _legacy(folder: FolderState, current: dict[str, Any]) -> dict[str, Any] | None:
    """What a folder of an older ftbench, without a fingerprint, ran: its ``suite.yaml``'s
    settings (data unknown, so taken as this run's); None if it has no readable suite."""
    if folder.legacy_settings is None:
        return None
    settings = {**folder.legacy_settings,
                "backbones": current["settings"]["backbones"]}  # paths there may be stale
    return {"settings": settings, "data": current["data"]}


def _why_not_extendable(old: dict, new: dict, changed: list[str], finals_run: bool) -> str | None:
    """Why ``--extend`` cannot take these changes; None when it can."""
    other = [k for k in changed if not _under(k, EXTENDABLE)]
    if other:
        return (f"{other[0].removeprefix('settings.')} changed, and only seeds, trials, "
                "strategies and sizes extend")
    was, now = old["settings"], new["settings"]
    if any(_under(k, ("settings.sizes", "settings.epochs_by_size")) for k in changed) and (
            why := _why_not_sizes(was, now)):
        return why
    for key in ("seeds", "seeds_within_reach"):
        old, new = was.get(key, []), now.get(key, [])
        if f"settings.{key}" in changed and not set(new) >= set(old):
            return f"{key} must keep the old ones {old}, but got {new}"
    if "settings.strategies" in changed and not (
            set(now["strategies"]) >= set(was["strategies"])):
        return (f"strategies must keep the old ones {was['strategies']}, but got "
                f"{now['strategies']}")
    if "settings.trials" in changed:
        if now["trials"] < was["trials"]:
            return f"trials can only grow, but got {now['trials']} after {was['trials']}"
        if finals_run:
            return ("more trials may change a cell's best configuration, and final seeds "
                    "already ran on the old one")
    return None


def _under(key: str, keys: tuple[str, ...]) -> bool:
    """``key`` is one of ``keys`` or inside one (``settings.epochs_by_size.250``)."""
    return any(key == k or key.startswith(f"{k}.") for k in keys)


def _why_not_sizes(was: dict, now: dict) -> str | None:
    """Why the sizes or their epoch budgets cannot extend; None when they can."""
    if not set(map(str, now["sizes"])) >= set(map(str, was["sizes"])):
        return f"sizes must keep the old ones {was['sizes']}, but got {now['sizes']}"
    old_budgets, new_budgets = was["epochs_by_size"], now["epochs_by_size"]
    for size in map(str, was["sizes"]):
        if old_budgets.get(size) != new_budgets.get(size):
            return (f"epochs_by_size of the old size {size} must stay "
                    f"{old_budgets.get(size, 'unset')}, but got {new_budgets.get(size, 'unset')}")
    return None


def check_splits_kept(folder: FolderState, suite: Suite, tasks: dict[str, TaskData],
                      splits: dict[str, dict]) -> None:
    """Raise if sizes added by ``--extend`` change the training or validation split of an old
    size: its rows were made on the old one. (The splits nest, so a size added above every
    old one keeps them; one added below or between may shift the larger ones.)

    Args:
        folder: the results folder as the run found it; its fingerprint names the old sizes.
        suite: this run's suite.
        tasks: the datasets by key.
        splits: this run's :func:`benchmarks.driver.grid.make_all_splits`.
    """
    recorded = folder.fingerprint
    sizes = [spec.to_yaml() for spec in suite.sizes]
    if recorded is None or recorded["settings"]["sizes"] == sizes:
        return
    old = dataclasses.replace(suite, sizes=parse_sizes(recorded["settings"]["sizes"], "old"))
    before = make_all_splits(old, tasks, resolve_plan(old, tasks))
    for dataset, by_size in before.items():
        for n_train, split in by_size.items():
            now = splits[dataset][n_train]
            if not (np.array_equal(split.train_idx, now.train_idx)
                    and np.array_equal(split.val_idx, now.val_idx)):
                raise ValueError(
                    f"sizes {sizes}: the old size {n_train} of dataset '{dataset}' must keep "
                    "the training and validation images its rows were made on, but the added "
                    "sizes change them (nested splits). Add only sizes above every old one, or "
                    f"{_WAYS_OUT[0].lower()}{_WAYS_OUT[1:]}.")


def check_journal_exists(spec: str, folder: FolderState) -> None:
    """Raise, before a new empty journal file is made, if the folder's ``trials.csv`` has rows
    but the journal that recorded their trials is gone (deleted, or another path)."""
    rows = len(folder.trials)
    if spec.endswith(".journal") and not Path(spec).exists() and rows:
        raise ValueError(f"storage '{spec}': it must exist, since {folder.path / 'trials.csv'} "
                         f"has {rows} rows of trials it recorded, but it is missing. Restore "
                         "it, or pass the --storage this folder was run with (plan.json names "
                         "it); a new journal would repeat every trial. Or move the folder "
                         "away.")


def check_storage_knows_rows(start: RunStart, shown: str) -> None:
    """Raise if ``trials.csv`` has rows of trials that the storage does not hold: a deleted
    journal or another ``--storage`` would run every trial again and duplicate the rows.

    Args:
        start: the folder and the storage's studies as the run found them.
        shown: how to name that storage (password masked).
    """
    for cell, numbers in start.folder.rows_by_cell("trials", "trial").items():
        key = start.cell_keys.get(cell)
        if key is None:
            continue
        study = start.studies.get(key)
        missing = sorted(numbers - (study.started if study else frozenset()))
        if missing:
            raise ValueError(
                f"storage '{shown}': it must hold the trials that the results folder has rows "
                f"of, but cell {key} has {len(missing)} rows of trials it does not hold (trial "
                f"{missing[0]}...). Pass the --storage this folder was run with (plan.json "
                "names it); running on would repeat every trial. Or move the folder away.")
