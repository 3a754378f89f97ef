"""The training loop: one model, one strategy, tensors in memory; no Optuna, no MLflow."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from timm.optim import create_optimizer_v2
from torch import nn

from benchmarks.schedule import apply_schedule, lr_factor
from benchmarks.tensors import Batches, TensorData
from strategies import LayerGroups, Strategy, count_trainable, param_groups
from strategies import set_requires_grad, set_train_mode, sync_optimizer

Report = Callable[[int, dict[str, float]], None]
"""Called after every epoch with the 1-based epoch and its metrics; may raise to stop."""


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainConfig:
    """How one trial trains, whatever the strategy.

    Attributes:
        max_epochs: epoch budget per trial.
        batch_size: training batch size.
        optimizer: a timm optimizer name (``adamw``, ``sgd``, ``momentum``, ...).
        warmup_epochs: linear warm-up length before the cosine decay.
        label_smoothing: cross-entropy label smoothing.
        grad_clip_norm: max global gradient norm (seed 000: 1.0); None disables.
        patience: early stopping after this many epochs without a better val accuracy.
        device: torch device string.
    """

    max_epochs: int = 8
    batch_size: int = 64
    optimizer: str = "adamw"
    warmup_epochs: int = 1
    label_smoothing: float = 0.0
    grad_clip_norm: float | None = 1.0
    patience: int = 10
    device: str = "cpu"


@dataclass
class TrainResult:
    """What a finished training run produced."""

    best_val_acc: float
    best_epoch: int
    epochs_run: int
    trainable_params: int
    train_time_s: float
    total_params: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None


def train(
    model: nn.Module,
    strategy: Strategy,
    groups: LayerGroups,
    data: TensorData,
    cfg: TrainConfig,
    *,
    seed: int,
    report: Report | None = None,
) -> TrainResult:
    """Train ``model`` under ``strategy`` and keep the weights of the best validation epoch."""
    torch.manual_seed(seed)
    device = torch.device(cfg.device)
    model.to(device)
    set_requires_grad(strategy, groups, 0)
    optimizer = create_optimizer_v2(param_groups(strategy, groups, 0), opt=cfg.optimizer)
    batches = Batches(data, cfg.batch_size, device, seed=seed)
    total = cfg.max_epochs * batches.steps_per_epoch
    warmup = cfg.warmup_epochs * batches.steps_per_epoch
    result = TrainResult(0.0, 0, 0, count_trainable(model), 0.0,
                         total_params=sum(p.numel() for p in model.parameters()))
    start = time.perf_counter()
    for epoch in range(cfg.max_epochs):
        sync_optimizer(optimizer, strategy, groups, epoch)
        set_train_mode(model, strategy, groups, epoch)
        step0 = epoch * batches.steps_per_epoch
        loss = _train_epoch(model, optimizer, batches, cfg, lambda i: lr_factor(step0 + i, total, warmup))
        val_acc = evaluate(model, data.x_val, data.y_val, data, device)
        metrics = {"train_loss": loss, "val_acc": val_acc, "trainable_params": count_trainable(model)}
        _record(result, model, epoch + 1, metrics)
        result.train_time_s = time.perf_counter() - start
        if report is not None:
            report(epoch + 1, metrics)
        if epoch + 1 - result.best_epoch >= cfg.patience:
            break
    result.trainable_params = max(h["trainable_params"] for h in result.history)
    return result


def _record(result: TrainResult, model: nn.Module, epoch: int, metrics: dict) -> None:
    """Append an epoch to the history; keep a copy of the weights when validation improves."""
    result.history.append({"epoch": epoch, **metrics})
    result.epochs_run = epoch
    if metrics["val_acc"] > result.best_val_acc or result.best_state is None:
        result.best_val_acc = metrics["val_acc"]
        result.best_epoch = epoch
        result.best_state = copy.deepcopy(model.state_dict())


def _train_epoch(model, optimizer, batches: Batches, cfg: TrainConfig, factor) -> float:
    """One pass over the training set; returns the mean training loss."""
    trainable = [p for g in optimizer.param_groups for p in g["params"]]
    total, count = 0.0, 0
    for i, (x, y) in enumerate(batches):
        apply_schedule(optimizer, factor(i))
        loss = F.cross_entropy(model(x), y, label_smoothing=cfg.label_smoothing)
        if not math.isfinite(loss.item()):
            raise TrainingDiverged(f"training loss became {loss.item()} at step {i}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(trainable, cfg.grad_clip_norm)
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / max(1, count)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, data: TensorData, device) -> torch.Tensor:
    """Predicted labels for uint8 images ``x``, in eval mode."""
    model.eval()
    preds = []
    for start in range(0, len(x), 512):
        batch = data.normalise(x[start : start + 512].to(device, non_blocking=True))
        preds.append(model(batch).argmax(1).cpu())
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, data: TensorData, device) -> float:
    """Accuracy of ``model`` on uint8 images ``x`` with labels ``y``."""
    return (predict(model, x, data, device) == y).float().mean().item()
