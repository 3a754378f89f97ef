"""A results folder as a run finds it at its start, read once: every table checked and
parsed, the fingerprint, the folder's id and, for a folder of an older ftbench without a
fingerprint, the settings of its ``suite.yaml``.

Every check before a run's work takes this one value (with the storage's studies,
:class:`benchmarks.driver.run_start.RunStart`), so that no check reads a file again and all of
them judge the same moment of the folder. A damaged file is refused here, once, with one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.results import fingerprint
from benchmarks.results.tables import read_tables, values_by_cell
from benchmarks.suite.model import load_suite


@dataclass(frozen=True, eq=False)
class FolderState:
    """One results folder at a run's start.

    Attributes:
        path: the folder.
        existed: whether it was there (a new folder is removed again if its run cannot start).
        fingerprint: what the run that made it recorded (:mod:`benchmarks.results.fingerprint`);
            None if no run has written one.
        legacy_settings: without a fingerprint, the fingerprint settings of its readable
            ``suite.yaml`` (a folder of an older ftbench); None otherwise.
        folder_id: its id (``folder_id.txt``); None before its first run made one.
        sampler_seeding: how its cells' samplers are seeded
            (:func:`benchmarks.results.fingerprint.sampler_seeding`).
        tables: every table by name, checked; empty (with its columns) where not written.
    """

    path: Path
    existed: bool
    fingerprint: dict[str, Any] | None
    legacy_settings: dict[str, Any] | None
    folder_id: str | None
    sampler_seeding: str
    tables: dict[str, pd.DataFrame] = field(repr=False)

    @property
    def trials(self) -> pd.DataFrame:
        """The rows of ``trials.csv``."""
        return self.tables["trials"]

    @property
    def final(self) -> pd.DataFrame:
        """The rows of ``final.csv``."""
        return self.tables["final"]

    def rows_by_cell(self, table: str, column: str) -> dict[tuple, set[int]]:
        """The values of ``column`` (``trial``, ``seed``) in each cell's rows of ``table``
        (:func:`benchmarks.results.tables.values_by_cell`)."""
        return values_by_cell(self.tables[table], column)


def read_folder(path: Path) -> FolderState:
    """The results folder ``path`` as it is now (nothing is created or written).

    Raises:
        ValueError: one line, for a damaged fingerprint, folder id or table.
    """
    recorded = fingerprint.read(path)
    has_suite = (path / "suite.yaml").is_file()
    return FolderState(
        path=path, existed=path.exists(), fingerprint=recorded,
        legacy_settings=_legacy_settings(path) if recorded is None and has_suite else None,
        folder_id=fingerprint.folder_id(path),
        sampler_seeding=fingerprint.sampler_seeding(recorded, has_suite, path),
        tables=read_tables(path))


def _legacy_settings(path: Path) -> dict[str, Any] | None:
    """The fingerprint settings of the folder's ``suite.yaml`` (None if it is no suite)."""
    try:
        suite = load_suite(str(path / "suite.yaml"))
    except ValueError:
        return None
    return fingerprint.fingerprint(suite, {})["settings"]
