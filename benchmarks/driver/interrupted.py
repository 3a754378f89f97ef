"""What a process that died left of a cell's trials: a trial Optuna holds as started but
whose row may be missing from ``trials.csv``, and an MLflow run left RUNNING. Each gets its
FAIL row and its KILLED run once, and the trial's row is never written twice (a trial
finished but without its row is run again: :func:`benchmarks.driver.tuning.retry_lost`)."""

from __future__ import annotations

import json
from typing import Any

from benchmarks.driver import tuning
from benchmarks.driver.cell import CellRun, has_row, parent_run


def record_interrupted(run: CellRun, trial: Any, retried: bool) -> None:
    """A trial whose process died: a FAIL row in ``trials.csv`` (unless it died just after
    writing its own row), its MLflow run KILLED."""
    attrs = trial.user_attrs
    where = f"pid {attrs.get('ftbench.pid', '?')} on {attrs.get('ftbench.host', '?')}"
    then = "retried once as a new trial" if retried else "not retried again (a retry itself)"
    config = attrs.get("config", {})
    row = {**run.base_row(), "trial": trial.number, "is_default": tuning.is_default(trial),
           "retry_of": tuning.retry_of(trial), "lr": config.get("lr"),
           "params": json.dumps(config, sort_keys=True), "max_epochs": run.train_cfg.max_epochs,
           "n_val": len(run.split.val_idx), "status": "FAIL",
           "reason": f"interrupted: the process running it ({where}) stopped; {then}",
           "mlflow_run_id": interrupted_run_id(run, trial, f"trial {trial.number}")}
    if not has_row(run, trial.number):  # a trial's row is never written twice
        run.writer.append("trials", row)
    if row["mlflow_run_id"]:
        run.tracker.end_run(row["mlflow_run_id"], "KILLED",
                            {"ftbench.status": "FAIL", "ftbench.reason": row["reason"]})


def interrupted_run_id(run: CellRun, trial: Any, name: str) -> str:
    """The MLflow run of an interrupted trial (``name``: its run name), or ''.

    The id is in the trial's attributes, unless the process died between creating the run
    and recording its id; then it is the cell's RUNNING child run of that name (the trial's
    process is gone, so no one else runs it).
    """
    recorded = trial.user_attrs.get("ftbench.mlflow_run_id")
    return recorded or run.tracker.running_child(parent_run(run), name) or ""
