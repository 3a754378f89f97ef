"""Which process runs a trial, and whether it still does: owner and heartbeat attributes,
a heartbeat thread while a trial runs, and the test that finds abandoned trials."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import optuna
from optuna.trial import TrialState


def mark_alive(trial: optuna.Trial, mlflow_run_id: str = "") -> None:
    """Record who runs ``trial`` and when it last made progress (see :func:`stale_trials`)."""
    trial.set_user_attr("ftbench.host", socket.gethostname())
    trial.set_user_attr("ftbench.pid", os.getpid())
    beat(trial)
    if mlflow_run_id:
        trial.set_user_attr("ftbench.mlflow_run_id", mlflow_run_id)


def beat(trial: optuna.Trial) -> None:
    """Record that ``trial``'s process is alive just now (one storage write)."""
    trial.set_user_attr("ftbench.heartbeat", time.time())


HEARTBEAT_S = 60.0
"""Seconds between heartbeats of a running trial (``--stale-after`` must be longer)."""
UNMARKED_S = 3 * HEARTBEAT_S
"""Seconds after which a RUNNING trial that no process has marked alive is taken as gone: the
worker that asked for it marks it a storage write later (seconds, even behind a journal lock
that a killed process held, which Optuna forces open after 30 s)."""


@contextmanager
def heartbeat(trial: optuna.Trial, every_s: float = HEARTBEAT_S) -> Iterator[None]:
    """Beat every ``every_s`` seconds from a daemon thread while the block runs, so that a
    long epoch, feature caching or test prediction never looks abandoned to other hosts.

    A beat that fails (the trial closed meanwhile, the storage gone) ends the thread; the
    block itself finds out on its next storage call.
    """
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                beat(trial)
            except Exception:  # noqa: BLE001  (see the docstring)
                return

    thread = threading.Thread(target=loop, name=f"ftbench-heartbeat-{trial.number}",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def stale_trials(study: optuna.Study, stale_after_s: float) -> list[optuna.trial.FrozenTrial]:
    """RUNNING trials whose process is gone: on this host, a dead pid; elsewhere, no
    heartbeat for ``stale_after_s`` seconds; with no owner recorded, a start more than
    :data:`UNMARKED_S` (or ``stale_after_s``, if shorter) ago.

    A trial is asked for and marked alive in two storage writes; another worker may look in
    between. Such a trial has no owner yet, and its start time stands in for its heartbeat,
    so it is not failed under the worker that is about to run it. A process killed between the
    two writes leaves the trial without an owner for good: it is taken as gone once the
    marking, a storage write or two, is long overdue, not after the whole ``stale_after_s``.
    """
    host, now = socket.gethostname(), time.time()
    return [trial for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if _gone(trial, host, now, stale_after_s)]


def _gone(trial: optuna.trial.FrozenTrial, host: str, now: float, stale_after_s: float) -> bool:
    """Whether the process of a RUNNING trial is gone (see :func:`stale_trials`)."""
    attrs = trial.user_attrs
    started = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
    if "ftbench.pid" not in attrs:  # asked for, never marked alive
        return now - started > min(stale_after_s, UNMARKED_S)
    if attrs.get("ftbench.host") == host:
        return not _pid_alive(int(attrs["ftbench.pid"]))
    return now - float(attrs.get("ftbench.heartbeat", started)) > stale_after_s


def running_trials(storage: optuna.storages.BaseStorage | str) -> list[tuple[str, bool]]:
    """Every RUNNING trial of every study in ``storage``: its name (``<study> trial 3, pid 12
    on host``) and whether its process may still run it (this host: its pid exists; another:
    a heartbeat within three beats)."""
    store = optuna.storages.get_storage(storage)
    host, now = socket.gethostname(), time.time()
    found = []
    for study in store.get_all_studies():
        study_id = store.get_study_id_from_name(study.study_name)
        for trial in store.get_all_trials(study_id, deepcopy=False,
                                          states=(TrialState.RUNNING,)):
            attrs = trial.user_attrs
            where = f"pid {attrs.get('ftbench.pid', '?')} on {attrs.get('ftbench.host', '?')}"
            found.append((f"{study.study_name} trial {trial.number}, {where}",
                          not _gone(trial, host, now, 3 * HEARTBEAT_S)))
    return found


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
