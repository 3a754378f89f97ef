"""MLflow tracking: a parent run per grid cell, a child run per trial (the one module that
uses mlflow).

Uses :class:`mlflow.MlflowClient` with explicit run ids rather than the fluent API, so no
global "active run" state leaks between cells, trials or worker processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from benchmarks.messages import first_line, masked_url

PARAM_LIMIT = 500  # MLflow's maximum length of a parameter value
FLUSH_EVERY_MS = 5000


def artifacts_dir(results_dir: Path, uri: str) -> Path | None:
    """The results folder's ``mlartifacts/`` for a store on this machine; None for a
    tracking server, whose own artifact store serves every machine."""
    return None if urlsplit(uri).scheme in ("http", "https") else results_dir / "mlartifacts"


def default_uri(results_dir: Path) -> str:
    """The default tracking store of a suite: an SQLite file inside its results folder."""
    return f"sqlite:///{(results_dir / 'mlflow.db').resolve()}"


def check_reachable(uri: str, timeout_s: float = 3.0) -> None:
    """Raise a one-line ValueError when an http(s) tracking server does not answer.

    (MLflow's own client retries for minutes before it reports an unreachable server.)
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        raise ValueError(f"MLflow tracking URI '{uri}': the server must be reachable, but "
                         f"connecting to {parts.hostname}:{port} failed ({exc}). Start the "
                         "server (`mlflow server --host 127.0.0.1`), fix the URI, or leave "
                         "--mlflow-uri out to log to results/<suite>/mlflow.db.") from None


ARTIFACT_COLUMNS = (("experiments", "artifact_location"), ("runs", "artifact_uri"),
                    ("logged_models", "artifact_location"))
"""Where MLflow's SQL store keeps absolute artifact locations."""


def relocate_artifacts(results_dir: Path) -> int:
    """Point the artifact locations in the folder's own store (``mlflow.db``) at its
    ``mlartifacts/``: a folder moved or unpacked elsewhere keeps the old absolute paths there,
    so that new runs would put their artifacts in the old place. Only locations under an old
    ``mlartifacts/`` change. Returns how many rows changed (0 without a store).

    Raises:
        ValueError: one line, when the store cannot be read or written.
    """
    db = results_dir / "mlflow.db"
    if not db.is_file():
        return 0
    new = (results_dir / "mlartifacts").resolve().as_uri()
    try:
        with contextlib.closing(sqlite3.connect(db)) as con, con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if "experiments" not in tables:  # a store not (yet) made: MLflow's opening says
                return 0
            olds = {r[0] for r in con.execute("SELECT artifact_location FROM experiments")
                    if r[0] and r[0].rstrip("/").endswith("/mlartifacts") and r[0] != new}
            return sum(_replace_prefix(con, table, column, old, new)
                       for old in olds for table, column in ARTIFACT_COLUMNS if table in tables)
    except sqlite3.Error as exc:
        raise ValueError(f"MLflow store '{db}': it must be an SQLite store MLflow wrote, but "
                         f"updating its artifact locations failed ({exc}). Restore the file from "
                         "a copy, or move it away to log to a new store.") from None


def _replace_prefix(con: sqlite3.Connection, table: str, column: str, old: str,
                    new: str) -> int:
    """Replace the location ``old`` by ``new`` where ``column`` is it or lies under it."""
    n = len(old)
    return con.execute(f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                       f"WHERE substr({column}, 1, ?) = ? AND substr({column}, ?, 1) IN ('', '/')",
                       (new, n + 1, n, old, n + 1)).rowcount


def build_store(db: Path) -> None:
    """Make a new SQLite store under a temporary name beside ``db`` and move it into place
    whole: MLflow creates its tables in dozens of migrations, and a run killed among them
    would leave a store no later run can open. A temporary file a killed run left is
    removed by the next build."""
    db.parent.mkdir(parents=True, exist_ok=True)
    for old in db.parent.glob(f".{db.name}.*.tmp*"):  # with SQLite's -journal beside it
        old.unlink(missing_ok=True)
    tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
    try:
        MlflowClient(tracking_uri=f"sqlite:///{tmp}").search_experiments(max_results=1)
        os.replace(tmp, db)
    finally:
        for left in (tmp, tmp.with_name(tmp.name + "-journal")):
            left.unlink(missing_ok=True)


def open_failure(uri: str, exc: BaseException, own: bool, removed: bool = False) -> str:
    """The one line for a store that could not be opened, saying what the user can do: free
    disk space; delete a store a stopped run left half made (the CSV tables are the record);
    or, for a ``--mlflow-uri`` the user gave, fix it. ``own``: the results folder's default
    store; ``removed``: the half-made store this failure left was removed."""
    text = first_line(exc, 300)
    where = f"MLflow store '{masked_url(uri)}'"
    if any(m in text.lower() for m in ("disk is full", "no space left")):
        gone = " (the half-made store was removed)" if removed else ""
        return (f"{where}: opening it needs free disk space, but the disk is full "
                f"({text}){gone}. Free space on that disk and run the same command again.")
    if "already exists" in text:
        return (f"{where}: it must be a complete store, but a run stopped while making it left "
                f"it half made ({text}). Delete that file and run again: the CSV tables are "
                "the record, only MLflow's copy of the runs is lost.")
    if own:
        return (f"{where}: it must be a store MLflow can open, but opening it failed ({text}). "
                "Move that file away and run again to start a new one: the CSV tables are "
                "the record.")
    return (f"MLflow tracking URI '{masked_url(uri)}': it must be a store MLflow can open, but "
            f"opening it failed ({text}). Fix the URI, or leave --mlflow-uri out to log to "
            "results/<suite>/mlflow.db.")


@contextlib.contextmanager
def _init_lock(uri: str) -> Iterator[None]:
    """An exclusive lock beside a SQLite store while it is opened (nothing for servers)."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    lock = Path(uri.removeprefix("sqlite:///") + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


class Tracker:
    """Logs runs of one suite into one MLflow experiment."""

    def __init__(self, uri: str, experiment: str, artifacts: Path | None = None) -> None:
        """Open the store at ``uri`` and the experiment called ``experiment``.

        ``artifacts``: where a newly created experiment keeps its artifacts (the results
        folder's ``mlartifacts/``, instead of MLflow's default ``./mlruns`` in the current
        folder); a server's own default when None.
        """
        self._artifacts = artifacts
        self._pending: dict[str, list[Metric]] = {}
        self._named: dict[str, str] = {}
        for name in ("alembic", "mlflow.store.db.utils", "mlflow.store"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.uri = uri
        own = artifacts is not None and uri == default_uri(artifacts.parent)
        self._removed_half_made = False
        try:
            with _init_lock(uri):  # workers starting together must not migrate one db twice
                self._open(uri, experiment, own)
        except Exception as exc:  # noqa: BLE001  (MLflow and SQLAlchemy raise many types)
            raise ValueError(open_failure(uri, exc, own, self._removed_half_made)) from None

    def _open(self, uri: str, experiment: str, own: bool) -> None:
        """Open the store and the experiment (under the store's lock). A new SQLite store is
        made whole before it takes its name (:func:`build_store`); one that this opening made
        and failed to finish (a full disk) is removed before the error goes on."""
        db = Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None
        new = db is not None and not db.exists()
        try:
            if new:
                build_store(db)
            if own:
                relocate_artifacts(self._artifacts.parent)  # a folder moved since it was made
            self.client = MlflowClient(tracking_uri=uri)
            self.experiment_id = self._experiment(experiment)
        except Exception:
            if new and db.is_file():  # half made by this opening: no other process uses it
                db.unlink()
                self._removed_half_made = True
            raise

    def _experiment(self, name: str) -> str:
        """The experiment's id, created if absent (another worker may create it first)."""
        found = self.client.get_experiment_by_name(name)
        if found:
            return found.experiment_id
        location = self._artifacts.resolve().as_uri() if self._artifacts else None
        try:
            return self.client.create_experiment(name, artifact_location=location)
        except MlflowException:
            return self.client.get_experiment_by_name(name).experiment_id

    def start_run(
        self, name: str, params: Mapping[str, Any], parent: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Open a run (nested under ``parent`` when given) and log its parameters."""
        all_tags = {"mlflow.runName": name, **(tags or {})}
        if parent is not None:
            all_tags["mlflow.parentRunId"] = parent
        run = self.client.create_run(self.experiment_id, tags=all_tags)
        run_id = run.info.run_id
        self.client.log_batch(
            run_id, params=[Param(k, str(v)[:PARAM_LIMIT]) for k, v in params.items()]
        )
        return run_id

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], step: int) -> None:
        """Queue the metrics of one step (an epoch); they are written every few seconds.

        One database transaction per epoch costs more than a small model's epoch on a CPU,
        so metrics are written in batches: at the latest when the run ends.
        """
        now = int(time.time() * 1000)
        queue = self._pending.setdefault(run_id, [])
        queue += [Metric(k, float(v), now, step) for k, v in metrics.items()]
        if now - queue[0].timestamp >= FLUSH_EVERY_MS:
            self.flush(run_id)

    def flush(self, run_id: str) -> None:
        """Write the queued metrics of a run."""
        queue = self._pending.pop(run_id, [])
        for start in range(0, len(queue), 1000):  # MLflow's limit per batch
            self.client.log_batch(run_id, metrics=queue[start : start + 1000])

    def end_run(self, run_id: str, status: str, tags: Mapping[str, str] | None = None) -> None:
        """Write queued metrics and close a run with a status: FINISHED, FAILED or KILLED."""
        self.flush(run_id)
        if tags:
            self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])
        self.client.set_terminated(run_id, status=status)

    def running_child(self, parent: str, name: str) -> str | None:
        """The RUNNING child run called ``name`` of ``parent``, or None: the run of a process
        that died after creating it and before ftbench recorded its id in the storage."""
        query = (f"tags.`mlflow.parentRunId` = '{parent}' and tags.`mlflow.runName` = '{name}' "
                 "and attributes.status = 'RUNNING'")
        runs = self.client.search_runs([self.experiment_id], filter_string=query,
                                       max_results=1)
        return runs[0].info.run_id if runs else None

    def named_run(self, name: str, params: Mapping[str, Any],
                  tags: Mapping[str, str] | None = None) -> str:
        """The top-level run called ``name`` (a cell's parent run), found again on resume."""
        if name not in self._named:
            query = f"tags.`mlflow.runName` = '{name}'"
            runs = self.client.search_runs([self.experiment_id], filter_string=query,
                                           max_results=1)
            found = runs[0].info.run_id if runs else None
            self._named[name] = found or self.start_run(name, params, tags=tags)
        return self._named[name]
