"""A disk that fills up mid-run is one line and exit 2, and the same command, run again once
there is room, finishes the suite with nothing lost or counted twice."""

from __future__ import annotations

import errno

import pandas as pd
import pytest

from benchmarks.cli.commands import main
from benchmarks.messages import disk_full
from benchmarks.results.tables import ResultsWriter
from tests.conftest import TINY_SUITE


def test_disk_full_is_found_through_the_errors_that_wrap_it():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("MlflowException: write failed") from inner
    except RuntimeError as outer:
        assert disk_full(outer)
    assert disk_full(Exception("(sqlite3.OperationalError) database or disk is full"))
    assert not disk_full(RuntimeError("something else"))


@pytest.mark.parametrize("table", ["final", "trials"])
def test_a_disk_full_mid_run_is_one_line_and_a_second_run_finishes(tmp_path, capsys,
                                                                   monkeypatch, table):
    (tmp_path / "tiny.yaml").write_text(TINY_SUITE.replace("seeds: [0]", "seeds: [0, 1]"))
    argv = ["run", str(tmp_path / "tiny.yaml"), "--results-dir", str(tmp_path / "r"),
            "--cache-dir", str(tmp_path / "c"), "--no-progress", "--no-report"]
    append = ResultsWriter.append

    def full_from_the_first_row_of(self, name, row):  # and every row of that table after it
        if name == table:
            raise OSError(errno.ENOSPC, "No space left on device")
        return append(self, name, row)

    monkeypatch.setattr(ResultsWriter, "append", full_from_the_first_row_of)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "the disk must have room for the results, but it is full (" in err
    assert "No space left on device). Free space, then run the same command again" in err
    monkeypatch.setattr(ResultsWriter, "append", append)
    assert main(argv) == 0
    final = pd.read_csv(tmp_path / "r" / "tiny" / "final.csv")
    assert sorted(final.seed) == [0, 1]
    trials = pd.read_csv(tmp_path / "r" / "tiny" / "trials.csv")
    assert trials.trial.is_unique and (trials.status == "COMPLETE").sum() == 2


@pytest.mark.parametrize("debug", [["--debug"], []])
def test_other_errors_keep_their_traceback(monkeypatch, debug):
    from benchmarks.cli import commands

    def bug(args):
        raise RuntimeError("a bug")

    monkeypatch.setitem(commands.COMMANDS, "status", bug)
    with pytest.raises(RuntimeError, match="a bug"):
        main([*debug, "status", "x"])
