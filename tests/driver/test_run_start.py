"""The start of a run reads the results folder once, into one value that every check takes;
the checks judge that value (and the storage's studies) alone."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.driver.options import RunOptions
from benchmarks.driver.ownership import StudyState, check_owned
from benchmarks.driver.resume_guard import check_journal_exists, check_storage_knows_rows
from benchmarks.driver.run_start import RunStart, start_run
from benchmarks.results import csv_check, fingerprint
from benchmarks.results.folder_state import FolderState, read_folder
from benchmarks.results.tables import TABLES
from benchmarks.suite.model import load_suite
from tests.conftest import TINY_SUITE, run_suite_text

CELL = ("test_resnet", "synth_far", 20, "feature_extraction")
KEY = "test_resnet/synth_far/n20/feature_extraction"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """The tiny suite, run to the end once."""
    folder = tmp_path_factory.mktemp("start")
    assert run_suite_text(folder, TINY_SUITE) == 0
    return folder


def test_the_start_reads_each_file_of_the_folder_once(finished, monkeypatch):
    """Every table is decoded, and the fingerprint read, once for all the checks (the start
    read trials.csv four times, in three modules, before it had one value)."""
    decoded: Counter[str] = Counter()
    real_decoded, real_read = csv_check._decoded, fingerprint.read
    monkeypatch.setattr(csv_check, "_decoded",
                        lambda path: decoded.update([path.name]) or real_decoded(path))
    reads: list[Path] = []
    monkeypatch.setattr(fingerprint, "read", lambda path: reads.append(path) or real_read(path))
    options = RunOptions(results_root=finished / "results", cache_dir=finished / "cache",
                         progress=False, report=False)
    begun = start_run(load_suite(str(finished / "tiny.yaml")), options, finished / "cache")
    assert decoded == dict.fromkeys(("trials.csv", "epochs.csv", "final.csv",
                                     "confusion.csv"), 1)
    assert reads == [finished / "results" / "tiny"]
    assert len(begun.start.folder.trials) == 2 and len(begun.start.folder.final) == 1
    assert begun.new_fingerprint is None  # the same suite: the recorded one is kept
    assert set(begun.start.studies) == {KEY, f"{KEY}/final"}
    assert begun.start.studies[KEY].started == frozenset({0, 1})


def test_a_read_folder_holds_what_the_run_wrote(finished):
    folder = read_folder(finished / "results" / "tiny")
    assert folder.existed and folder.fingerprint["settings"]["name"] == "tiny"
    assert folder.sampler_seeding == fingerprint.PER_CELL and folder.legacy_settings is None
    assert folder.folder_id == (folder.path / fingerprint.ID_FILE).read_text().strip()
    assert folder.rows_by_cell("trials", "trial") == {CELL: {0, 1}}
    assert folder.rows_by_cell("final", "seed") == {CELL: {0}}


def test_a_missing_folder_reads_as_new_and_empty(tmp_path):
    folder = read_folder(tmp_path / "nothing")
    assert not folder.existed and folder.fingerprint is None and folder.folder_id is None
    assert folder.sampler_seeding == fingerprint.PER_CELL
    assert all(folder.tables[t].empty and list(folder.tables[t].columns) == TABLES[t]
               for t in TABLES)
    assert not (tmp_path / "nothing").exists()  # reading made nothing


def _folder(trials: list[int], folder_id: str | None = "mine") -> FolderState:
    """A folder whose trials.csv has rows of ``trials`` of the one cell."""
    rows = pd.DataFrame([dict(zip(("backbone", "dataset", "n_train", "strategy"), CELL),
                              trial=n, status="COMPLETE") for n in trials],
                        columns=TABLES["trials"])
    tables = {t: pd.DataFrame(columns=c) for t, c in TABLES.items()} | {"trials": rows}
    return FolderState(Path("results/tiny"), True, None, None, folder_id,
                       fingerprint.PER_CELL, tables)


def _start(folder: FolderState, **studies: StudyState) -> RunStart:
    return RunStart(folder, {KEY if n == "cell" else f"{KEY}/final": s
                             for n, s in studies.items()}, {CELL: KEY})


def test_rows_of_trials_the_storage_lacks_are_refused():
    check_storage_knows_rows(_start(_folder([0, 1]), cell=StudyState("mine", frozenset({0, 1}))),
                             "journal")
    with pytest.raises(ValueError, match=rf"cell {KEY} has 1 rows of trials it does not hold "
                                         r"\(trial 1\.\.\.\)"):
        check_storage_knows_rows(_start(_folder([0, 1]), cell=StudyState("mine",
                                                                         frozenset({0}))), "j")
    with pytest.raises(ValueError, match="has 2 rows of trials it does not hold"):
        check_storage_knows_rows(_start(_folder([0, 1])), "journal")  # no study at all


@pytest.mark.parametrize("owner, rows, started, refused", [
    ("mine", [], {0}, False),  # the folder's own study
    ("theirs", [], set(), True),  # another folder's, even empty
    ("", [0], {0}, False),  # an older ftbench's study with the folder's rows
    ("", [], set(), False),  # an older ftbench's study, never started
    ("", [], {0}, True),  # an older ftbench's study with trials of another folder
])
def test_a_study_of_another_folder_is_refused(owner, rows, started, refused):
    start = _start(_folder(rows), final=StudyState(owner, frozenset(started)))
    if not refused:
        check_owned(start, "journal")
        return
    with pytest.raises(ValueError, match=f"study '{KEY}/final' must belong to the results "
                                         "folder 'results/tiny'"):
        check_owned(start, "journal")


def test_a_lost_journal_is_refused_from_the_rows_read_at_the_start(tmp_path):
    check_journal_exists(str(tmp_path / "optuna.journal"), _folder([]))
    with pytest.raises(ValueError, match="has 2 rows of trials it recorded, but it is missing"):
        check_journal_exists(str(tmp_path / "optuna.journal"), _folder([0, 1]))
