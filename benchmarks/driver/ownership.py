"""Which results folder an Optuna study belongs to: every study a run uses records the id of
its folder (``folder_id.txt``), and a run refuses, before any work, a study that another
folder's run made, so that a shared ``--storage`` never mixes the trials of two folders.
It also reads the storage's side of a run's start (:func:`read_studies`): each study's owner
and started trials, once, for every check of :mod:`benchmarks.driver.run_start`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import optuna

from benchmarks.driver.storage import Storage

if TYPE_CHECKING:
    from benchmarks.driver.run_start import RunStart

OWNER = "ftbench.folder_id"
"""User attribute of a study: the id of the results folder whose rows record its trials
(studies of an older ftbench have none)."""


def study_names(cell_key: str) -> tuple[str, str]:
    """The studies of one cell: its trials, and its final seeds
    (:func:`benchmarks.driver.seed_study.open_finals`)."""
    return cell_key, f"{cell_key}/final"


@dataclass(frozen=True)
class StudyState:
    """One study as the storage holds it when a run starts.

    Attributes:
        owner: the folder id it records; '' for a study of an older ftbench without one.
        started: the numbers of its trials that have started (a waiting one has not).
    """

    owner: str
    started: frozenset[int]


def read_studies(storage: Storage, cell_keys: Iterable[str]) -> dict[str, StudyState]:
    """Each study of the cells ``cell_keys`` (:func:`study_names`) that the storage holds, by
    its name; a study not made yet is absent."""
    store = optuna.storages.get_storage(storage)
    found = {}
    for key in cell_keys:
        for name in study_names(key):
            try:
                study_id = store.get_study_id_from_name(name)
            except KeyError:
                continue
            trials = store.get_all_trials(study_id, deepcopy=False)
            found[name] = StudyState(
                str(store.get_study_user_attrs(study_id).get(OWNER, "")),
                frozenset(t.number for t in trials if t.state != optuna.trial.TrialState.WAITING))
    return found


def check_owned(start: RunStart, shown: str) -> None:
    """Raise one line unless every study of the grid that the storage holds belongs to the
    folder: it records the folder's id, or, made by an older ftbench without one, it has no
    started trial or the folder has rows of its cell.

    Args:
        start: the folder and the storage's studies as the run found them.
        shown: how to name that storage (password masked).
    """
    folder, with_rows = start.folder, start.folder.rows_by_cell("trials", "trial")
    for cell, key in start.cell_keys.items():
        for name in study_names(key):
            study = start.studies.get(name)
            if study is None or study.owner == folder.folder_id:
                continue
            if study.owner == "" and (cell in with_rows or not study.started):
                continue
            raise ValueError(_not_ours(shown, name, folder.path, study.owner,
                                       folder.folder_id))


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


def _not_ours(shown: str, name: str, out: Path, owner: str, folder: str | None) -> str:
    """The one line that refuses a study of another folder."""
    mine = f"this folder's is {folder}" if folder else "this folder has none yet"
    made = (f"it was made by the run of another results folder (id {owner}; {mine})" if owner
            else "it holds trials that this folder has no rows of (a run into another folder)")
    return (f"storage '{shown}': study '{name}' must belong to the results folder '{out}', "
            f"but {made}. To start over, pass --storage a new journal file or database, or "
            f"delete that folder's studies (optuna delete-study --storage URL --study-name "
            f"NAME); to resume the other run, pass its --results-dir.")
