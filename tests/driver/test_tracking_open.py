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


_OPEN = """
import sys
from pathlib import Path
from benchmarks.driver.tracking import Tracker, default_uri
folder = Path(sys.argv[1])
print("opening", flush=True)
Tracker(default_uri(folder), "ftbench/tiny", folder / "mlartifacts")
"""
"""A run's first opening of its store, in a process the test kills."""


@pytest.mark.parametrize("delay", [0.0, 0.3, 1.0])
def test_a_store_killed_while_it_is_made_leaves_none_or_a_whole_one(tmp_path, delay):
    import signal
    import subprocess
    import sys
    import time

    folder, uri = _own_store(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", _OPEN, str(folder)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "opening"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    made = (folder / "mlflow.db").exists()  # all of it, or nothing: never half
    tracker = Tracker(uri, "ftbench/tiny", folder / "mlartifacts")
    run = tracker.start_run("trial 0", {"lr": 0.1})
    tracker.end_run(run, "FINISHED")
    assert sorted(p.name for p in folder.iterdir()) == ["mlflow.db", "mlflow.db.lock"], made


def test_a_new_store_takes_its_name_only_when_it_is_whole(tmp_path, monkeypatch):
    folder, uri = _own_store(tmp_path)

    def killed(*args):
        raise KeyboardInterrupt  # a kill between making the tables and the move

    monkeypatch.setattr(tracking.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        Tracker(uri, "ftbench/tiny", folder / "mlartifacts")
    assert not (folder / "mlflow.db").exists()
    assert not list(folder.glob(".mlflow.db.*.tmp"))
