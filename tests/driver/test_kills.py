"""``kill -9`` at several points of ``ftbench run`` (pretraining, final seeds, report), then the
same command again: nothing completed is lost or repeated, no MLflow run is left running, and
the report builds. (A kill in the middle of a trial is in test_workers.py.)"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from benchmarks.cli.commands import main

pytestmark = pytest.mark.slow

SUITE = """
name: kill
backbones: [test_resnet]
datasets: [synth_far]
sizes: [40]
strategies: [full_finetune]
trials: 2
seeds: [0, 1, 2]
pretrain: {{dataset: synth_near, epochs: {pretrain_epochs}, batch_size: 256}}
train: {{max_epochs: 3, batch_size: 16}}
pruner: {{type: none}}
"""


def _args(tmp_path: Path, pretrain_epochs: int = 1) -> list[str]:
    suite = tmp_path / "kill.yaml"
    suite.write_text(SUITE.format(pretrain_epochs=pretrain_epochs))
    return ["run", str(suite), "--results-dir", str(tmp_path / "r"), "--cache-dir",
            str(tmp_path / "c"), "--no-progress"]


def _kill_when(args: list[str], ready: Callable[[], bool], timeout_s: float = 300) -> None:
    """Start ``ftbench`` in its own process group; SIGKILL the group once ``ready()``."""
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.cli", *args],
                            start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.time() + timeout_s
    try:
        while not ready():
            assert proc.poll() is None, "ftbench ended before the point of the kill"
            assert time.time() < deadline, "the point of the kill never came"
            time.sleep(0.05)
        assert proc.poll() is None, "ftbench ended before the point of the kill"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _rows(path: Path) -> int:
    try:
        return len(pd.read_csv(path))
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return 0


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _resume_and_check(tmp_path: Path, args: list[str]) -> None:
    """Run the same command again; check tables, joins, MLflow and the report."""
    out = tmp_path / "r" / "kill"
    trials_before, final_before = _lines(out / "trials.csv"), _lines(out / "final.csv")
    assert main(args) == 0
    assert _lines(out / "trials.csv")[: len(trials_before)] == trials_before  # byte for byte
    assert _lines(out / "final.csv")[: len(final_before)] == final_before
    trials, final = pd.read_csv(out / "trials.csv"), pd.read_csv(out / "final.csv")
    assert (trials.status == "COMPLETE").sum() == 2
    assert sorted(final.seed) == [0, 1, 2]  # each seed once
    confusion = pd.read_csv(out / "confusion.csv")
    counts = confusion.groupby("mlflow_run_id")["count"].sum()
    assert (counts.reindex(final.mlflow_run_id).to_numpy() == final.n_test.to_numpy()).all()
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("ftbench/kill").experiment_id])
    assert "RUNNING" not in {r.info.status for r in runs}
    assert (out / "report" / "report.html").stat().st_size > 0
    assert main(["report", str(out)]) == 0


def test_a_kill_during_pretraining_is_resumed(tmp_path):
    args = _args(tmp_path, pretrain_epochs=6)
    journal = tmp_path / "r" / "kill" / "optuna.journal"
    started: list[float] = []

    def pretraining() -> bool:  # the storage is opened just before pretraining starts
        if journal.exists() and not started:
            started.append(time.time())
        return bool(started) and time.time() - started[0] > 2.0

    _kill_when(args, pretraining)
    assert not list((tmp_path / "c").rglob("*.pt")), "pretraining had already finished"
    assert not (tmp_path / "r" / "kill" / "trials.csv").exists()
    _resume_and_check(tmp_path, args)


def test_a_kill_during_the_final_seeds_is_resumed(tmp_path):
    args = _args(tmp_path)
    final = tmp_path / "r" / "kill" / "final.csv"
    _kill_when(args, lambda: _rows(final) >= 1)
    assert _rows(final) < 3
    _resume_and_check(tmp_path, args)


def test_a_kill_during_the_report_is_resumed(tmp_path):
    args = _args(tmp_path)
    out = tmp_path / "r" / "kill"
    _kill_when(args, lambda: (out / "run.json").exists())  # written just before the report
    assert _rows(out / "final.csv") == 3
    _resume_and_check(tmp_path, args)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_a_background_sigint_stop_the_run_as_ctrl_c_does(tmp_path, signum):
    """A session's end (SIGTERM), or Ctrl-C sent to a run that a shell started in the
    background with SIGINT ignored, stops the trial in flight as interrupted: the storage
    holds no trial left RUNNING, so a resume on any machine retries it at once."""
    import optuna

    suite = tmp_path / "long.yaml"
    suite.write_text(SUITE.format(pretrain_epochs=1).replace("max_epochs: 3", "max_epochs: 400")
                     .replace("name: kill", "name: long"))
    args = ["run", str(suite), "--results-dir", str(tmp_path / "r"), "--cache-dir",
            str(tmp_path / "c"), "--no-progress", "--no-report"]
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "benchmarks.cli", *args])
    proc = subprocess.Popen(["bash", "-c", f"trap '' INT; exec {command}"],  # as `cmd &` does
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    epochs = tmp_path / "r" / "long" / "epochs.csv"
    deadline = time.time() + 300
    while _rows(epochs) < 2:
        assert proc.poll() is None and time.time() < deadline, "no epoch came"
        time.sleep(0.1)
    os.kill(proc.pid, signum)
    assert proc.wait(timeout=60) != 0
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(tmp_path / "r" / "long" / "optuna.journal")))
    states = [t.state for s in optuna.get_all_study_summaries(storage)
              for t in optuna.load_study(study_name=s.study_name, storage=storage).trials]
    assert states and optuna.trial.TrialState.RUNNING not in states
