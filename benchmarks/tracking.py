"""MLflow tracking: a parent run per grid cell, a child run per trial (the one module using mlflow).

Uses :class:`mlflow.MlflowClient` with explicit run ids rather than the fluent API, so no
global "active run" state leaks between cells, trials or worker processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

PARAM_LIMIT = 500  # MLflow's maximum length of a parameter value


def default_uri(results_dir: Path) -> str:
    """The default tracking store of a suite: an SQLite file inside its results folder."""
    return f"sqlite:///{(results_dir / 'mlflow.db').resolve()}"


class Tracker:
    """Logs runs of one suite into one MLflow experiment."""

    def __init__(self, uri: str, experiment: str) -> None:
        for name in ("alembic", "mlflow.store.db.utils", "mlflow.store"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_id = (
            found.experiment_id if found else self.client.create_experiment(experiment)
        )

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
        """Log metrics of one step (an epoch) in a single batch."""
        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()]
        )

    def end_run(self, run_id: str, status: str, tags: Mapping[str, str] | None = None) -> None:
        """Close a run with an MLflow status: FINISHED, FAILED or KILLED."""
        if tags:
            self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])
        self.client.set_terminated(run_id, status=status)

    def find_run(self, name: str, parent: str | None = None) -> str | None:
        """The id of an existing run with this name (and parent), e.g. to resume a cell."""
        query = f"tags.`mlflow.runName` = '{name}'"
        if parent is not None:
            query += f" and tags.`mlflow.parentRunId` = '{parent}'"
        runs = self.client.search_runs([self.experiment_id], filter_string=query, max_results=1)
        return runs[0].info.run_id if runs else None
