"""Opening the MLflow store: a half-made store, a full disk and a bad URI each get one line
that says what the user can do."""

from __future__ import annotations

import sqlite3

import pytest

from benchmarks.driver import tracking
from benchmarks.driver.tracking import Tracker, default_uri


def _own_store(tmp_path):
    folder = tmp_path / "results" / "tiny"
    folder.mkdir(parents=True)
    return folder, default_uri(folder)


def test_a_store_left_half_made_by_a_kill_is_named_with_the_way_out(tmp_path):
    folder, uri = _own_store(tmp_path)
    with sqlite3.connect(folder / "mlflow.db") as con:  # what a kill mid-migration leaves
        con.execute("CREATE TABLE guardrails (id INTEGER)")
    with pytest.raises(ValueError) as err:
        Tracker(uri, "ftbench/tiny", folder / "mlartifacts")
    message = str(err.value)
    assert "left it half made (" in message and "guardrails already exists" in message
    assert "Delete that file and run again" in message and "Fix the URI" not in message
    assert (folder / "mlflow.db").is_file()  # not this run's to remove


def test_a_full_disk_says_free_space_and_leaves_no_half_made_store(tmp_path, monkeypatch):
    folder, uri = _own_store(tmp_path)

    def full(*args, **kwargs):
        (folder / "mlflow.db").write_bytes(b"SQLite format 3\x00")  # begun, never finished
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(tracking, "MlflowClient", full)
    with pytest.raises(ValueError) as err:
        Tracker(uri, "ftbench/tiny", folder / "mlartifacts")
    message = str(err.value)
    assert "needs free disk space, but the disk is full" in message
    assert "(the half-made store was removed)" in message and "Fix the URI" not in message
    assert not (folder / "mlflow.db").exists()


def test_a_user_s_uri_that_fails_is_told_to_be_fixed(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise RuntimeError("could not connect")

    monkeypatch.setattr(tracking, "MlflowClient", refused)
    with pytest.raises(ValueError, match="Fix the URI, or leave --mlflow-uri out"):
        Tracker(f"sqlite:///{tmp_path / 'elsewhere.db'}", "exp")
