"""A cell's final re-runs: its best configuration retrained with each seed and scored once
on the untouched test split (accuracy, macro F1, confusion counts)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from benchmarks.driver.cell import (
    CellRun,
    build_model,
    cell_tags,
    parent_run,
    result_columns,
    tensor_data,
)
from benchmarks.driver.pictures import pictures_path, save_pictures
from benchmarks.engine.training import TrainResult, predict, train
from strategies import get_strategy, layer_groups


def run_final(run: CellRun, trial_number: int, config: dict[str, Any], seed: int,
              on_start: Callable[[str], None] = lambda run_id: None,
              pictures: bool = False) -> dict:
    """Retrain the cell's best configuration with ``seed`` and score it on the test split.

    ``on_start(run_id)`` is called once its MLflow run exists (to find it after a crash).
    ``pictures``: also save the features and Grad-CAM maps the report draws
    (:mod:`benchmarks.driver.pictures`).
    """
    strategy_cls = get_strategy(run.cell.strategy)
    strategy = strategy_cls(strategy_cls.config_cls.from_dict(config))
    cfg = strategy.config.to_dict()
    run_id = run.tracker.start_run(f"final seed {seed}", {**cfg, "seed": seed},
                                   parent=parent_run(run),
                                   tags={**cell_tags(run), "ftbench.kind": "final"})
    on_start(run_id)
    try:
        model = build_model(run, seed=seed)
        data = tensor_data(run, model)

        def report(epoch: int, metrics: dict[str, float]) -> None:
            run.tracker.log_metrics(run_id, metrics, step=epoch)
            run.progress.epoch()

        result = train(model, strategy, layer_groups(model), data, run.train_cfg, seed=seed,
                       report=report)
        model.load_state_dict(result.best_state)
        test = run.task.test
        truth = test.labels.numpy()
        device = torch.device(run.train_cfg.device)
        pred = predict(model, test.images, data, device, run.train_cfg.precision).numpy()
        if pictures:
            save_pictures(pictures_path(run.writer.folder, run.cell.key), model, test.images,
                          test.labels, data, device)
    except BaseException:
        run.tracker.end_run(run_id, "FAILED")
        raise
    row = {**_test_row(run, truth, pred, result), "seed": seed, "trial": trial_number,
           "lr": strategy.config.lr, "params": json.dumps(cfg, sort_keys=True),
           "mlflow_run_id": run_id}
    run.tracker.log_metrics(run_id, {k: row[k] for k in (
        "test_acc", "test_macro_f1", "test_macro_precision", "test_macro_recall")}, step=0)
    run.tracker.end_run(run_id, "FINISHED")
    # confusion rows first: a final row always has its confusion rows (the report joins the
    # two on mlflow_run_id, so rows of a seed killed before its final row are ignored)
    run.writer.append_rows("confusion", confusion_rows(run, truth, pred, seed, run_id))
    run.writer.append("final", row)
    return row


def _test_row(run: CellRun, truth: np.ndarray, pred: np.ndarray, result: TrainResult) -> dict:
    """Test-split metrics of the best-epoch weights: accuracy and macro F1, precision and
    recall (scikit-learn; a class never predicted has precision 0)."""
    precision, recall, f1, _ = precision_recall_fscore_support(truth, pred, average="macro",
                                                               zero_division=0)
    return {**run.base_row(), **result_columns(result),
            "max_epochs": run.train_cfg.max_epochs, "n_val": len(run.split.val_idx),
            "n_test": len(truth), "test_acc": float((pred == truth).mean()),
            "test_macro_f1": float(f1), "test_macro_precision": float(precision),
            "test_macro_recall": float(recall)}


def confusion_rows(run: CellRun, truth: np.ndarray, pred: np.ndarray, seed: int,
                   run_id: str) -> list[dict]:
    """The non-zero cells of the test confusion matrix (scikit-learn), one row each."""
    classes = list(run.task.classes)
    counts = confusion_matrix(truth, pred, labels=range(len(classes)))
    return [{**run.base_row(), "seed": seed, "true_idx": int(t), "true_class": classes[t],
             "pred_idx": int(p), "pred_class": classes[p], "count": int(counts[t, p]),
             "mlflow_run_id": run_id}
            for t, p in zip(*np.nonzero(counts))]
