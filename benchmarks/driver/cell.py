"""One grid cell (backbone x dataset x size x strategy): its run context and its tuning
trials (its final seeds: :mod:`benchmarks.driver.final_run`)."""

from __future__ import annotations

import dataclasses
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from benchmarks.data import SizeSpec, TaskData
from benchmarks.data.splits import Split
from benchmarks.driver import liveness, tuning
from benchmarks.driver.cell_data import CellData
from benchmarks.driver.progress import Progress
from benchmarks.driver.summary import cell_summary
from benchmarks.driver.tracking import Tracker
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.memory import is_out_of_memory, out_of_memory_reason, release_memory
from benchmarks.engine.tensors import TensorData
from benchmarks.engine.training import TrainingDiverged, TrainResult, train
from benchmarks.models.backbones import create_backbone, fresh_head, normalisation
from benchmarks.results.csv_check import CellId
from benchmarks.results.tables import ResultsWriter, values_by_cell
from strategies import Strategy, StrategyContext, get_strategy, layer_groups


class TrialOutOfMemory(RuntimeError):
    """A trial ran out of memory; it is recorded as failed and the study goes on."""


@dataclass(frozen=True)
class Cell:
    """Coordinates of one cell of the grid."""

    backbone: str
    dataset: str
    n_train: int
    strategy: str
    size: SizeSpec | None = None  # as the suite writes it; None = the count n_train

    @property
    def size_label(self) -> str:
        """The size as written in the suite (``"15%"``, ``"10/class"``, ``"all"`` or the count)."""
        return self.size.label if self.size is not None else str(self.n_train)

    @property
    def key(self) -> str:
        """A stable identifier, used as the Optuna study name and MLflow run name."""
        return f"{self.backbone}/{self.dataset}/n{self.n_train}/{self.strategy}"


def cell_id(cell: Cell) -> CellId:
    """A cell as the columns of its rows name it: (backbone, dataset, n_train, strategy)."""
    return cell.backbone, cell.dataset, cell.n_train, cell.strategy


@dataclass(frozen=True)
class CellRun:
    """Everything a cell needs from the suite run around it."""

    cell: Cell
    suite_name: str
    regime: str
    task: TaskData
    split: Split
    checkpoint: Path | None
    model: str  # the backbone's model name (``test_resnet``, ``tv:resnet50``, ...)
    train_cfg: TrainConfig
    tracker: Tracker
    writer: ResultsWriter
    progress: Progress
    data_cache: CellData = field(default_factory=CellData)

    def base_row(self) -> dict[str, Any]:
        """The cell columns shared by every table."""
        c = self.cell
        return {"suite": self.suite_name, "backbone": c.backbone, "dataset": c.dataset,
                "family": self.task.family, "n_train": c.n_train, "size": c.size_label,
                "regime": self.regime,
                "strategy": c.strategy}


def images(run: CellRun) -> int:
    """Images an epoch of the cell trains on and scores: the progress bar's weight."""
    return len(run.split.train_idx) + len(run.split.val_idx)


def image_bytes(run: CellRun) -> int:
    """Bytes that a trial's training and validation images (uint8) and labels take."""
    pool = run.task.train
    per_image = pool.images[0].numel() * pool.images.element_size()
    return images(run) * (per_image + pool.labels.element_size())


def progress_label(run: CellRun) -> str:
    """The cell in the progress bar's few columns: dataset, size, strategy."""
    return f"{run.cell.dataset} n{run.cell.n_train} {run.cell.strategy}"


def build_model(run: CellRun, seed: int) -> nn.Module:
    """The cell's backbone, pretrained or not as the strategy says, with a seeded new head."""
    strategy_cls = get_strategy(run.cell.strategy)
    torch.manual_seed(seed)
    checkpoint = run.checkpoint if strategy_cls.pretrained else None
    model = create_backbone(run.model, len(run.task.classes), checkpoint)
    if checkpoint is not None:
        fresh_head(model)
    return model


def tensor_data(run: CellRun, model: nn.Module) -> TensorData:
    """Training and validation tensors of the cell, normalised for ``model``; on the
    training device when they fit (gathered and placed once: :class:`CellData`)."""
    mean, std = normalisation(model)

    def build() -> TensorData:
        pool = run.task.train
        tr, va = torch.as_tensor(run.split.train_idx), torch.as_tensor(run.split.val_idx)
        return TensorData(pool.images[tr], pool.labels[tr], pool.images[va], pool.labels[va],
                          mean, std)

    c = run.cell
    data = run.data_cache.tensors((c.backbone, c.dataset, c.n_train), build,
                                  run.train_cfg.device)
    return dataclasses.replace(data, mean=mean, std=std)


def strategy_context(run: CellRun) -> StrategyContext:
    """Backbone facts a strategy's search space depends on."""
    probe = create_backbone(run.model, len(run.task.classes))
    return StrategyContext(n_blocks=layer_groups(probe).n_blocks,
                           max_epochs=run.train_cfg.max_epochs)


def make_objective(run: CellRun, ctx: StrategyContext) -> Callable[[Any], float]:
    """The Optuna objective of the cell: sample, train, record a row whatever happens."""
    strategy_cls = get_strategy(run.cell.strategy)

    def objective(trial: Any) -> float:
        run.progress.start(f"{progress_label(run)} t{trial.number}", weight=images(run))
        try:
            config = strategy_cls.suggest(trial, ctx)
            if tuning.is_default(trial):  # the guideline's plan may hold more than the searched
                config = strategy_cls.default_config(ctx)
            trial.set_user_attr("config", config.to_dict())
            return _run_trial(run, trial, strategy_cls(config), ctx)
        except Exception as exc:
            if tuning.is_pruned(exc) or has_row(run, trial.number):
                raise
            raise tuning.RowLost(f"trial {trial.number} has no row in trials.csv: "
                                 f"{type(exc).__name__}: {exc}") from exc
        finally:
            run.progress.finish(run.train_cfg.max_epochs)

    return objective


def cell_tags(run: CellRun) -> dict[str, str]:
    """The cell's coordinates as MLflow tags of every run of it (``ftbench.dataset``, ...),
    so that the UI sorts and filters trials and seeds by them."""
    return {f"ftbench.{k}": str(v) for k, v in run.base_row().items()}


def _run_trial(run: CellRun, trial: Any, strategy: Strategy, ctx: StrategyContext) -> float:
    """Train one trial, log it to MLflow and ``trials.csv``; re-raise pruning and failures."""
    params = strategy.config.to_dict()
    run_id = run.tracker.start_run(
        f"trial {trial.number}", {**params, "trial": trial.number}, parent=parent_run(run),
        tags={**cell_tags(run), "ftbench.kind": "trial"},
    )
    liveness.mark_alive(trial, run_id)
    row = {**run.base_row(), "trial": trial.number, "is_default": tuning.is_default(trial),
           "retry_of": tuning.retry_of(trial), "lr": strategy.config.lr,
           "params": json.dumps(params, sort_keys=True),
           "max_epochs": run.train_cfg.max_epochs, "n_val": len(run.split.val_idx),
           "mlflow_run_id": run_id}
    history: list[dict] = []
    started, out_of_memory = time.perf_counter(), False
    try:
        reason = strategy.skip(ctx)
        if reason is not None:
            raise tuning.TrialSkipped(reason)
        result = _train_for_trial(run, trial, strategy, run_id, history)
    except BaseException as exc:
        row["train_time_s"] = round(time.perf_counter() - started, 3)  # pruned trials cost too
        _finish_failed(run, row, run_id, history, exc)
        out_of_memory = is_out_of_memory(exc)
        if not out_of_memory:
            raise
    if out_of_memory:  # freed here, once the frames that held the tensors are gone
        release_memory()
        raise TrialOutOfMemory(row["reason"])
    row.update(result_columns(result), status="COMPLETE", reason="")
    run.writer.append("trials", row)
    run.tracker.end_run(run_id, "FINISHED", {"ftbench.status": "COMPLETE"})
    return result.best_val_acc


def _train_for_trial(run, trial, strategy, run_id, history) -> TrainResult:
    """Build the model and train it, reporting each epoch to MLflow, Optuna and the CSV."""
    model = build_model(run, seed=trial.number)
    prune = tuning.pruning_report(trial, run.train_cfg.max_epochs)

    def report(epoch: int, metrics: dict[str, float]) -> None:
        history.append({"epoch": epoch, **metrics})
        run.tracker.log_metrics(run_id, metrics, step=epoch)
        run.writer.append("epochs", {**run.base_row(), "trial": trial.number, "epoch": epoch,
                                     **metrics})
        run.progress.epoch()
        prune(epoch, metrics["val_acc"])

    return train(model, strategy, layer_groups(model), tensor_data(run, model),
                 run.train_cfg, seed=trial.number, report=report)


def result_columns(result: TrainResult) -> dict[str, Any]:
    """The columns every table takes from a finished training run."""
    return {"val_acc": result.best_val_acc, "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run, "trainable_params": result.trainable_params,
            "total_params": result.total_params,
            "train_time_s": round(result.train_time_s, 3),
            "peak_mem_mb": round(result.peak_mem_mb, 1)}


def _finish_failed(run: CellRun, row: dict, run_id: str, history: list, exc: BaseException):
    """Record a pruned, skipped, failed or interrupted trial in the CSV and MLflow."""
    if tuning.is_pruned(exc):
        status, mlflow_status = "PRUNED", "KILLED"
    elif isinstance(exc, tuning.TrialSkipped):
        status, mlflow_status = "SKIPPED", "KILLED"
    elif isinstance(exc, Exception):
        status, mlflow_status = "FAIL", "FAILED"
    else:  # KeyboardInterrupt / SystemExit: the run is being stopped
        status, mlflow_status = "FAIL", "KILLED"
    reason = str(exc) or type(exc).__name__
    if not isinstance(exc, Exception):  # the same words as a trial whose process died
        then = "not retried again (a retry itself)" if row["retry_of"] is not None \
            else "retried once as a new trial"
        reason = f"interrupted: the run was stopped ({type(exc).__name__}); {then}"
    if is_out_of_memory(exc):
        reason = out_of_memory_reason(exc)
    if status == "FAIL" and isinstance(exc, Exception) and not _expected(exc):
        reason = f"{type(exc).__name__}: {reason} | {traceback.format_exc(limit=-2)}"
    if history:
        best = max(history, key=lambda h: h["val_acc"])
        row.update(val_acc=best["val_acc"], best_epoch=best["epoch"],
                   epochs_run=history[-1]["epoch"],
                   trainable_params=max(h["trainable_params"] for h in history))
    row.update(status=status, reason=reason.replace("\n", " ")[:1000])
    run.writer.append("trials", row)
    run.tracker.end_run(run_id, mlflow_status, {"ftbench.status": status,
                                                "ftbench.reason": reason[:500]})


def has_row(run: CellRun, number: int) -> bool:
    """Whether ``trials.csv`` has the row of the cell's trial ``number``."""
    return number in trial_rows(run)


def trial_rows(run: CellRun) -> set[int]:
    """The numbers of the cell's trials that have their row in ``trials.csv``."""
    return values_by_cell(run.writer.read("trials"), "trial").get(cell_id(run.cell), set())


def _expected(exc: Exception) -> bool:
    """Failures whose message alone explains them (no traceback needed in the CSV)."""
    return isinstance(exc, (TrainingDiverged, ValueError)) or is_out_of_memory(exc)


def close_parent(run: CellRun, status: str = "FINISHED") -> None:
    """End the cell's MLflow parent run: FINISHED once all of its final seeds are in, FAILED
    when one failed (a later run that retries it finishes the parent again). It carries the
    cell's best validation accuracy over its trials and its final seeds' mean test scores."""
    parent = parent_run(run)
    summary = cell_summary(run)
    if summary:
        run.tracker.log_metrics(parent, summary, step=0)
    run.tracker.end_run(parent, status)


def parent_run(run: CellRun) -> str:
    """The MLflow parent run of the cell (created on first use, found again on resume)."""
    return run.tracker.named_run(run.cell.key, {**run.base_row(), "n_val": len(run.split.val_idx)},
                                 tags={**cell_tags(run), "ftbench.kind": "cell"})
