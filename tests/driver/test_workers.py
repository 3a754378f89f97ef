"""Exact budgets with concurrent workers, and resuming after a killed run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from benchmarks.cli.commands import main
from benchmarks.driver import liveness, seed_study, storage, tuning
from benchmarks.driver.storage import make_storage

SUITE = """
name: {name}
backbones: [test_resnet]
datasets: [synth_far]
sizes: [{n}]
strategies: [{strategies}]
trials: {trials}
seeds: [0, 1]
pretrain: {{dataset: synth_near, epochs: 1, batch_size: 256}}
train: {{max_epochs: {epochs}, batch_size: 16}}
pruner: {{type: none}}
"""


def _journal_study(tmp_path, name="cell"):
    storage = make_storage(str(tmp_path / "s.journal"))
    return optuna.create_study(study_name=name, storage=storage, direction="maximize",
                               load_if_exists=True)


def test_concurrent_asks_never_exceed_the_budget(tmp_path):
    study = _journal_study(tmp_path)
    asked = [tuning.ask_within_budget(study, 3) for _ in range(3)]  # three workers, in flight
    assert all(t is not None for t in asked)
    other = _journal_study(tmp_path)  # a fourth worker, another process's view
    late = other.ask()
    assert late.number == 3
    # ask_within_budget would have voided it: emulate the check on the same storage
    before = [t for t in other.get_trials() if t.number < late.number and tuning.counts(t)]
    assert len(before) == 3
    assert tuning.ask_within_budget(other, 3) is None  # the budget is taken by running trials
    for trial in asked:
        study.tell(trial, 0.5)
    other.tell(late, state=TrialState.FAIL)
    assert tuning.remaining_trials(study, 3) == 0 or tuning.remaining_trials(study, 4) == 0


def test_a_default_enqueued_by_two_workers_at_once_runs_once(tmp_path):
    first, second = _journal_study(tmp_path), _journal_study(tmp_path)
    params = {"x": 0.25}
    tuning.enqueue_default(first, params)
    second.enqueue_trial(params, user_attrs={"is_default": True})  # looked before it was there
    a = tuning.ask_within_budget(first, 3)
    b = tuning.ask_within_budget(second, 3)  # claims the copy, voids it, asks a fresh trial
    assert tuning.is_default(a) and not tuning.is_default(b) and b.number == 2
    trials = second.get_trials()
    assert trials[1].state == TrialState.FAIL and "twice" in trials[1].user_attrs[tuning.VOID]
    assert tuning.remaining_trials(second, 3) == 1  # the void copy used none of the budget


def test_a_trial_just_asked_for_is_never_taken_for_an_abandoned_one(tmp_path):
    study = _journal_study(tmp_path)
    owned = tuning.ask_within_budget(study, 3)
    assert owned.user_attrs["ftbench.pid"] == os.getpid()  # its owner is recorded at once
    other = _journal_study(tmp_path)  # another worker looks between ask and mark_alive
    unowned = other.ask()
    assert liveness.stale_trials(other, stale_after_s=60) == []
    time.sleep(0.05)
    assert [t.number for t in liveness.stale_trials(other, stale_after_s=0.01)] == [
        unowned.number]  # with no owner, its start time is its heartbeat
    finals = _journal_study(tmp_path, "cell/final")
    seed_study.offer_seeds(finals, [0])
    claimed, seed = seed_study.claim_seed(finals)
    assert seed == 0 and claimed.user_attrs["ftbench.pid"] == os.getpid()


def test_a_trial_its_process_never_marked_is_gone_soon_not_after_stale_after(tmp_path,
                                                                             monkeypatch):
    """Killed between ask and mark_alive, a process leaves a RUNNING trial without an owner:
    after UNMARKED_S it is gone, however long --stale-after is (it used to wait 30 min)."""
    study = _journal_study(tmp_path)
    orphan = study.ask()
    assert liveness.stale_trials(study, stale_after_s=1800) == []  # maybe just asked for
    later = time.time() + liveness.UNMARKED_S + 1
    monkeypatch.setattr(liveness, "time", type("Clock", (), {"time": staticmethod(
        lambda: later)}))
    assert [t.number for t in liveness.stale_trials(study, stale_after_s=1800)] == [
        orphan.number]
    liveness.mark_alive(orphan)  # an owner with a fresh heartbeat: alive again
    assert liveness.stale_trials(study, stale_after_s=1800) == []


def _unmarked_seed(tmp_path, monkeypatch) -> list[str]:
    """A run of a 1-cell suite whose process dies between claiming final seed 1 and marking
    it alive (as SIGKILL did there in CI), leaving it RUNNING with no owner; its arguments."""
    suite = _write_suite(tmp_path, "orphan", n=40, trials=2, epochs=2)
    args = [str(a) for a in ("run", suite, "--results-dir", tmp_path / "r", "--cache-dir",
                             tmp_path / "c", "--no-progress", "--no-report")]
    real = seed_study.mark_alive

    def dies(trial, *rest):
        if trial.user_attrs.get(seed_study.SEED) == 1:
            raise KeyboardInterrupt("killed")
        real(trial, *rest)

    monkeypatch.setattr(seed_study, "mark_alive", dies)
    assert main(args) != 0
    monkeypatch.setattr(seed_study, "mark_alive", real)
    finals = optuna.load_study(
        study_name="test_resnet/synth_far/n40/full_finetune/final",
        storage=make_storage(str(tmp_path / "r" / "orphan" / "optuna.journal")))
    running = finals.get_trials(states=(TrialState.RUNNING,))
    assert [t.user_attrs for t in running] == [{seed_study.SEED: 1}]
    return args


def test_a_seed_its_dead_process_never_marked_is_run_again(tmp_path, monkeypatch):
    """The resume runs the seed again once the orphan is known to be gone, and reports the
    cell done only with every seed's row (it used to exit 0 without seed 1's)."""
    args = _unmarked_seed(tmp_path, monkeypatch)
    later = time.time() + liveness.UNMARKED_S + 1
    monkeypatch.setattr(liveness, "time", type("Clock", (), {"time": staticmethod(
        lambda: later)}))
    assert main(args) == 0
    final = pd.read_csv(tmp_path / "r" / "orphan" / "final.csv")
    assert sorted(final.seed) == [0, 1]


def test_a_cell_waiting_on_a_seed_is_never_reported_done(tmp_path, monkeypatch, capsys):
    """Right after the death, the orphan may still be a worker about to mark it: the cell
    waits, and a time-boxed run stops (exit 3) rather than report it done without seed 1."""
    args = _unmarked_seed(tmp_path, monkeypatch)
    capsys.readouterr()
    assert main([*args, "--stop-after", "8s"]) == 3
    out = capsys.readouterr().out
    assert "waits on its last training, in another worker" in out
    assert "1/1 cells done" not in out and "seeds 1/2" in out
    assert sorted(pd.read_csv(tmp_path / "r" / "orphan" / "final.csv").seed) == [0]


def test_a_seed_offered_by_two_workers_at_once_runs_once(tmp_path):
    first, second = _journal_study(tmp_path, "c/final"), _journal_study(tmp_path, "c/final")
    seed_study.offer_seeds(first, [0, 1])
    for seed in (0, 1):  # the second worker looked before the first enqueued: it offers too
        second.enqueue_trial({}, user_attrs={seed_study.SEED: seed})
    assert len(first.get_trials(states=(TrialState.WAITING,))) == 4
    a, b = seed_study.claim_seed(first), seed_study.claim_seed(second)
    assert {a[1], b[1]} == {0, 1}
    first.tell(a[0], 0.9)  # one seed done; the other still running in the second worker
    assert seed_study.claim_seed(first) is None  # both copies voided, not run
    assert seed_study.claim_seed(second) is None
    trials = first.get_trials()
    ran = [t.user_attrs[seed_study.SEED] for t in trials if tuning.VOID not in t.user_attrs]
    assert sorted(ran) == [0, 1]
    voided = [t for t in trials if tuning.VOID in t.user_attrs]
    assert len(voided) == 2 and all(t.state == TrialState.FAIL for t in voided)
    assert all("offered twice" in t.user_attrs[tuning.VOID] for t in voided)


def test_a_seed_whose_run_failed_is_offered_and_claimed_again(tmp_path):
    finals = _journal_study(tmp_path, "c/final")
    seed_study.offer_seeds(finals, [0])
    trial, seed = seed_study.claim_seed(finals)
    assert seed == 0
    finals.tell(trial, state=TrialState.FAIL)  # the re-run raised
    seed_study.offer_seeds(finals, [0])
    again = seed_study.claim_seed(finals)
    assert again is not None and again[1] == 0 and again[0].number > trial.number


def test_a_running_trial_beats_from_a_thread_until_its_block_ends(tmp_path):
    study = _journal_study(tmp_path)
    trial = tuning.ask_within_budget(study, 3)
    first = trial.user_attrs["ftbench.heartbeat"]
    with liveness.heartbeat(trial, every_s=0.02):
        time.sleep(0.3)  # one long step: no epoch ends, yet the trial beats
        during = _journal_study(tmp_path).get_trials()[0].user_attrs["ftbench.heartbeat"]
    assert during > first
    after = study.get_trials()[0].user_attrs["ftbench.heartbeat"]
    time.sleep(0.1)
    assert study.get_trials()[0].user_attrs["ftbench.heartbeat"] == after  # the thread ended
    assert not any(t.name.startswith("ftbench-heartbeat") for t in threading.enumerate())


def test_a_heartbeat_on_a_trial_closed_meanwhile_ends_quietly(tmp_path):
    study = _journal_study(tmp_path)
    trial = tuning.ask_within_budget(study, 3)
    with liveness.heartbeat(trial, every_s=0.02):
        tuning.fail(study, study.get_trials()[0])  # judged abandoned by another worker
        time.sleep(0.1)  # the next beat fails on the closed trial and ends the thread
        assert not any(t.name.startswith("ftbench-heartbeat") for t in threading.enumerate())
    assert study.get_trials()[0].state == TrialState.FAIL


def test_telling_a_trial_another_worker_closed_meanwhile_is_not_an_error(tmp_path):
    study = _journal_study(tmp_path)
    trial = tuning.ask_within_budget(study, 3)
    other = _journal_study(tmp_path)
    tuning.fail_and_retry(other, other.get_trials()[0])  # judged abandoned by another worker
    assert tuning.tell(study, trial, 0.9) is False
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.FAIL, TrialState.WAITING]  # the retry waits for a worker
    fresh = tuning.ask_within_budget(study, 3)
    assert tuning.tell(study, fresh, 0.8) is True and study.best_value == 0.8


def test_an_interrupted_trial_is_failed_and_retried_once(tmp_path):
    study = _journal_study(tmp_path)
    study.enqueue_trial({"x": 0.25}, user_attrs={"is_default": True})

    def interrupted(trial):
        trial.suggest_float("x", 0, 1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tuning.optimize(study, interrupted, 3)
    first = study.get_trials()[0]
    assert first.state == TrialState.FAIL and tuning.VOID in first.user_attrs
    tuning.optimize(study, lambda t: t.suggest_float("x", 0, 1), 3)
    trials = study.get_trials()
    retry = trials[1]
    assert retry.params == {"x": 0.25} and tuning.retry_of(retry) == 0
    assert retry.user_attrs["is_default"] is True
    assert sum(tuning.counts(t) for t in trials) == 3 and len(trials) == 4


def _write_suite(tmp_path, name, **fields):
    values = {"name": name, "n": 40, "strategies": "full_finetune", "trials": 4, "epochs": 3,
              **fields}
    path = tmp_path / f"{name}.yaml"
    path.write_text(SUITE.format(**values))
    return path


def _cli(*args):
    return [sys.executable, "-m", "benchmarks.cli", *map(str, args)]


def test_two_worker_processes_share_one_cell_exactly(tmp_path):
    suite = _write_suite(tmp_path, "pair", n=80, trials=12, epochs=4)
    common = ["--results-dir", tmp_path / "r", "--cache-dir", tmp_path / "c", "--no-progress",
              "--threads", "1", "--storage", tmp_path / "shared.journal"]
    assert main(["pretrain", "--dataset", "synth_near", "--epochs", "1", "--batch-size", "256",
                 "--cache-dir", str(tmp_path / "c")]) == 0
    procs = [subprocess.Popen(_cli("worker", suite, *common)) for _ in range(2)]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    trials = pd.read_csv(tmp_path / "r" / "pair" / "trials.csv")
    assert sorted(trials.trial) == list(range(12))  # the budget exactly, no number twice
    final = pd.read_csv(tmp_path / "r" / "pair" / "final.csv")
    assert sorted(final.seed) == [0, 1]
    study = optuna.load_study(study_name="test_resnet/synth_far/n80/full_finetune",
                              storage=make_storage(str(tmp_path / "shared.journal")))
    ran = [t for t in study.get_trials() if tuning.counts(t)]
    assert len(ran) == 12 and len({t.user_attrs["ftbench.pid"] for t in ran}) == 2
    client = MlflowClient(f"sqlite:///{tmp_path / 'r' / 'pair' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("ftbench/pair").experiment_id])
    assert len(runs) == 1 + 12 + 2 and {r.info.status for r in runs} == {"FINISHED"}


def test_a_killed_run_resumes_keeping_finished_trials_and_retrying_the_killed_one(tmp_path):
    # 200 images: an epoch long enough that the kill lands inside trial 2, also under load
    suite = _write_suite(tmp_path, "kill", n=200, trials=4, epochs=8)
    args = ["run", suite, "--results-dir", tmp_path / "r", "--cache-dir", tmp_path / "c",
            "--no-progress", "--no-report"]
    proc = subprocess.Popen(_cli(*args), start_new_session=True)
    epochs = tmp_path / "r" / "kill" / "epochs.csv"
    deadline = time.time() + 300
    while time.time() < deadline:
        if epochs.exists() and (pd.read_csv(epochs).trial == 2).sum() >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    table = tmp_path / "r" / "kill" / "trials.csv"
    before = table.read_text().splitlines()
    assert list(pd.read_csv(table).trial) == [0, 1]
    assert main([str(a) for a in args]) == 0
    assert table.read_text().splitlines()[:3] == before  # kept, byte for byte
    after = pd.read_csv(table)
    killed = after[after.trial == 2].iloc[0]
    assert killed.status == "FAIL" and killed.reason.startswith("interrupted")
    retry = after[after.retry_of == 2]
    assert len(retry) == 1 and retry.status.iloc[0] == "COMPLETE"
    assert len(after) == 4 + 1  # the budget, plus the killed trial's own row
    final = pd.read_csv(tmp_path / "r" / "kill" / "final.csv")
    assert sorted(final.seed) == [0, 1]
    client = MlflowClient(f"sqlite:///{tmp_path / 'r' / 'kill' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("ftbench/kill").experiment_id])
    assert "RUNNING" not in {r.info.status for r in runs}
    assert client.get_run(killed.mlflow_run_id).info.status == "KILLED"


def test_the_same_suite_twice_on_cpu_gives_identical_trials(tmp_path):
    suite = _write_suite(tmp_path, "twice", strategies="partial_freeze, full_finetune",
                         trials=3, epochs=2)
    tables = []
    for run in ("a", "b"):
        assert main(["run", str(suite), "--results-dir", str(tmp_path / run), "--cache-dir",
                     str(tmp_path / "c"), "--no-progress", "--no-report"]) == 0
        tables.append(pd.read_csv(tmp_path / run / "twice" / "trials.csv"))
    varying = ["train_time_s", "peak_mem_mb", "mlflow_run_id"]  # clocks, memory, random ids
    pd.testing.assert_frame_equal(tables[0].drop(columns=varying),
                                  tables[1].drop(columns=varying))
    assert tables[0].val_acc.notna().all()


def test_a_storage_whose_schema_another_worker_creates_meanwhile_is_opened_again(monkeypatch):
    from sqlalchemy.exc import IntegrityError

    calls = []

    def racing(url):
        calls.append(url)
        if len(calls) < 3:  # PostgreSQL's answer to a concurrent CREATE TABLE IF NOT EXISTS
            raise IntegrityError("CREATE TABLE studies", {}, Exception("pg_type_typname_nsp"))
        return "opened"

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    monkeypatch.setattr(storage.time, "sleep", lambda s: None)
    assert make_storage("sqlite:///x.db") == "opened" and len(calls) == 3
    calls.clear()
    monkeypatch.setattr(storage, "SCHEMA_ATTEMPTS", 2)
    with pytest.raises(ValueError, match="it must be reachable, but opening it failed"):
        make_storage("sqlite:///x.db")
    assert len(calls) == 2


@pytest.mark.parametrize("said", ['relation "alembic_version" already exists',
                                  'type "studydirection" already exists',
                                  "(1050, \"Table 'studies' already exists\")"])
def test_a_schema_object_another_worker_created_first_is_a_race_tried_again(monkeypatch, said):
    from sqlalchemy.exc import OperationalError, ProgrammingError

    calls = []

    def racing(url):
        calls.append(url)
        if len(calls) < 2:
            error = OperationalError if "1050" in said else ProgrammingError
            raise error("CREATE TABLE", {}, Exception(said))
        return "opened"

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    monkeypatch.setattr(storage.time, "sleep", lambda s: None)
    assert make_storage("sqlite:///x.db") == "opened" and len(calls) == 2


def test_a_database_error_that_is_no_race_is_not_tried_again(monkeypatch):
    from sqlalchemy.exc import OperationalError

    calls = []

    def refusing(url):
        calls.append(url)
        raise OperationalError("connect", {}, Exception('password authentication failed'))

    monkeypatch.setattr(optuna.storages, "RDBStorage", refusing)
    with pytest.raises(ValueError, match="password authentication failed"):
        make_storage("sqlite:///x.db")
    assert len(calls) == 1


def test_a_storage_neither_a_journal_nor_a_url_says_what_a_storage_is(tmp_path):
    what = ("it must be a journal file path (ending in .journal) or a database URL "
            "(sqlite:///optuna.db, postgresql://user@host/db), but got ")
    with pytest.raises(ValueError) as error:
        make_storage(str(tmp_path))
    assert str(error.value) == (
        f"storage '{tmp_path}': {what}a folder. Pass a journal file in it, e.g. "
        f"{tmp_path / 'optuna.journal'}, or pass a database URL (sqlite:///PATH for a database "
        "file).")
    with pytest.raises(ValueError, match=rf"{re.escape(what)}a path without that ending\. End "
                                         r"the path in \.journal, or pass a database URL"):
        make_storage(str(tmp_path / "optuna.db"))
    assert not (tmp_path / "optuna.db").exists()


def test_the_run_of_a_process_killed_before_recording_its_id_is_found(tmp_path):
    from benchmarks.driver.tracking import Tracker

    tracker = Tracker(f"sqlite:///{tmp_path / 'm.db'}", "exp")
    parent = tracker.start_run("cell", {})
    done = tracker.start_run("final seed 0", {}, parent=parent)
    tracker.end_run(done, "FINISHED")
    orphan = tracker.start_run("final seed 1", {}, parent=parent)
    elsewhere = tracker.start_run("final seed 1", {}, parent=tracker.start_run("other", {}))
    assert tracker.running_child(parent, "final seed 1") == orphan != elsewhere
    assert tracker.running_child(parent, "final seed 0") is None  # finished: not an orphan
    assert tracker.running_child(parent, "trial 7") is None
