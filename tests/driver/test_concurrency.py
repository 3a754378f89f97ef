"""Three worker processes on one storage run one suite: exactly the budgeted trials per cell,
no trial number twice, one MLflow run per trial and per final seed.

Runs against the default journal file and against a real PostgreSQL server on loopback (the
``postgres_database`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient

from benchmarks.cli.commands import main
from benchmarks.driver import tuning
from benchmarks.driver.storage import make_storage

pytestmark = pytest.mark.slow

SUITE = """
name: many
backbones: [test_resnet]
datasets: [synth_far]
sizes: [80]
strategies: [full_finetune, partial_freeze]
trials: 6
seeds: [0, 1]
pretrain: {dataset: synth_near, epochs: 1, batch_size: 256}
train: {max_epochs: 4, batch_size: 16}
pruner: {type: none}
"""
TRIALS, SEEDS = 6, [0, 1]


def _run_three_workers(tmp_path: Path, storage: str | None) -> Path:
    """Three ``ftbench worker`` processes started together (the backbone pretrained first,
    so that none has a head start), then ``ftbench report``."""
    suite = tmp_path / "many.yaml"
    suite.write_text(SUITE)
    cache = str(tmp_path / "c")
    assert main(["pretrain", "--dataset", "synth_near", "--epochs", "1", "--batch-size", "256",
                 "--cache-dir", cache]) == 0
    command = [sys.executable, "-m", "benchmarks.cli", "worker", str(suite), "--results-dir",
               str(tmp_path / "r"), "--cache-dir", cache, "--no-progress", "--threads", "1",
               *(["--storage", storage] if storage else [])]
    procs = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for _ in range(3)]
    assert [p.wait(timeout=900) for p in procs] == [0, 0, 0]
    out = tmp_path / "r" / "many"
    assert main(["report", str(out)]) == 0
    return out


def _check_exact(out: Path, storage: str) -> None:
    """Budgets, trial numbers, final seeds and MLflow runs of every cell."""
    trials, final = pd.read_csv(out / "trials.csv"), pd.read_csv(out / "final.csv")
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("ftbench/many").experiment_id])
    assert "RUNNING" not in {r.info.status for r in runs}
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(children) == len(trials) + len(final)  # one run per trial and per seed
    assert sorted(r.info.run_id for r in children) == sorted(
        list(trials.mlflow_run_id) + list(final.mlflow_run_id))
    loaded = make_storage(storage)
    pids = set()
    for strategy in ("full_finetune", "partial_freeze"):
        mine = trials[trials.strategy == strategy]
        assert sorted(mine.trial) == list(range(TRIALS))  # the budget, no number twice
        assert sorted(final[final.strategy == strategy].seed) == SEEDS
        study = optuna.load_study(study_name=f"test_resnet/synth_far/n80/{strategy}",
                                  storage=loaded)
        pids |= {t.user_attrs["ftbench.pid"] for t in study.get_trials() if tuning.counts(t)}
    assert len(pids) >= 2, "the trials ran in one process only"


def test_three_workers_share_the_default_journal(tmp_path):
    out = _run_three_workers(tmp_path, None)
    _check_exact(out, str(out / "optuna.journal"))


def test_three_workers_share_a_postgresql_server(tmp_path, postgres_database):
    url = postgres_database()
    out = _run_three_workers(tmp_path, url)
    _check_exact(out, url)
    assert not (out / "optuna.journal").exists()
