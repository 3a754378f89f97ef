"""Which results folder an Optuna study belongs to: every study a run uses records the id of
its folder (``folder_id.txt``), and a run refuses, before any work, a study that another
folder's run made, so that a shared ``--storage`` never mixes the trials of two folders."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd

from benchmarks.driver import tuning
from benchmarks.driver.storage import Storage

OWNER = "ftbench.folder_id"
"""User attribute of a study: the id of the results folder whose rows record its trials
(studies of an older ftbench have none)."""


def study_names(cell_key: str) -> tuple[str, str]:
    """The studies of one cell: its trials, and its final seeds
    (:func:`benchmarks.driver.tuning.open_finals`)."""
    return cell_key, f"{cell_key}/final"


def check_owned(trials: pd.DataFrame, cell_keys: dict[tuple, str], storage: Storage,
                out: Path, folder: str | None, shown: str) -> None:
    """Raise one line unless every study of the grid that the storage holds belongs to the
    folder: it records the folder's id, or, made by an older ftbench without one, it has no
    started trial or the folder has rows of its cell.

    Args:
        trials: the rows of ``trials.csv``.
        cell_keys: each cell's (backbone, dataset, n_train, strategy) -> its study name.
        storage: the Optuna storage this run opened.
        out: the results folder.
        folder: its id (:func:`benchmarks.results.fingerprint.folder_id`); None before its
            first run made one.
        shown: how to name that storage (password masked).
    """
    with_rows = {_cell_of(row) for row in trials.itertuples()} if not trials.empty else set()
    store = optuna.storages.get_storage(storage)
    for cell, key in cell_keys.items():
        for name in study_names(key):
            owner = _owner(store, name)
            if owner is None or owner == folder:
                continue
            if owner == "" and (cell in with_rows or not tuning.started_trials(store, name)):
                continue
            raise ValueError(_not_ours(shown, name, out, owner, folder))


def claim_studies(storage: Storage, cell_keys: list[str], folder: str, out: Path,
                  shown: str) -> None:
    """Create the studies of ``cell_keys`` where missing and record ``folder`` in each that
    has no owner yet (after :func:`check_owned`; workers record the same id).

    Raises:
        ValueError: a study already records another folder (a run of another folder on the
            same storage started at the same moment).
    """
    for key in cell_keys:
        for name in study_names(key):
            study = optuna.create_study(study_name=name, storage=storage,
                                        direction="maximize", load_if_exists=True)
            owner = study.user_attrs.get(OWNER)
            if owner is None:
                study.set_user_attr(OWNER, folder)
            elif owner != folder:
                raise ValueError(_not_ours(shown, name, out, owner, folder))


def _owner(store: optuna.storages.BaseStorage, name: str) -> str | None:
    """The folder id a study records; '' for a study without one; None if there is no such
    study."""
    try:
        study_id = store.get_study_id_from_name(name)
    except KeyError:
        return None
    return str(store.get_study_user_attrs(study_id).get(OWNER, ""))


def _cell_of(row) -> tuple:
    """The cell a ``trials.csv`` row names."""
    return row.backbone, row.dataset, int(row.n_train), row.strategy


def _not_ours(shown: str, name: str, out: Path, owner: str, folder: str | None) -> str:
    """The one line that refuses a study of another folder."""
    mine = f"this folder's is {folder}" if folder else "this folder has none yet"
    made = (f"it was made by the run of another results folder (id {owner}; {mine})" if owner
            else "it holds trials that this folder has no rows of (a run into another folder)")
    return (f"storage '{shown}': study '{name}' must belong to the results folder '{out}', "
            f"but {made}. To start over, pass --storage a new journal file or database, or "
            f"delete that folder's studies (optuna delete-study --storage URL --study-name "
            f"NAME); to resume the other run, pass its --results-dir.")
