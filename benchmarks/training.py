"""The training loop: one model, one strategy, tensors in memory; no Optuna, no MLflow."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import torch
import torch.nn.functional as F
from timm.optim import create_optimizer_v2
from torch import nn

from benchmarks.augment import AugmentConfig, make_augment
from benchmarks.memory import PeakMemory
from benchmarks.precision import Precision, make_precision
from benchmarks.route import choose_route
from benchmarks.schedule import apply_schedule, lr_factor
from benchmarks.tensors import Batches, Prepare, TensorData
from strategies import (
    LayerGroups,
    Strategy,
    count_trainable,
    param_groups,
    set_requires_grad,
    set_train_mode,
    sync_optimizer,
)

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
        device: torch device string: ``cpu``, ``cuda``, ``cuda:1``, ``mps``.
        precision: ``fp32``, or autocast to ``bf16``/``fp16`` (fp16 with a gradient scaler):
            both on CUDA, bf16 on CPU, fp32 only on MPS (:mod:`benchmarks.precision`).
        channels_last: model and image batches in channels-last memory format: True,
            False, or ``auto`` (the default): the suite run measures both per backbone and
            device and passes the faster (:mod:`benchmarks.memory_format`); ``train`` itself
            runs contiguous when given ``auto``.
        cache_features: compute once per trial what cannot change during it, and train on
            the stored outputs: the backbone's features when every block stays frozen
            (:mod:`benchmarks.features`), else the activations of the input-side blocks that
            stay frozen (:mod:`benchmarks.prefix`).
        cache_limit_mb: the most memory (on ``device``) the stored activations of a frozen
            prefix may take; above it the trial runs the whole network on images instead.
        augment: the batch augmentation of training images (:mod:`benchmarks.augment`): a
            name (``none``, ``flip_crop``, ``randaugment``, ``mixup``, ``cutmix``) or a mapping
            of :class:`~benchmarks.augment.AugmentConfig` fields. Anything but ``none``
            disables cached features, since the backbone then sees new images every epoch.
    """

    max_epochs: int = 8
    batch_size: int = 64
    optimizer: str = "adamw"
    warmup_epochs: int = 1
    label_smoothing: float = 0.0
    grad_clip_norm: float | None = 1.0
    patience: int = 10
    device: str = "cpu"
    precision: str = "fp32"
    channels_last: bool | str = "auto"
    cache_features: bool = True
    cache_limit_mb: float = 1024.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "augment", _augment_config(self.augment))
        if not (isinstance(self.channels_last, bool) or self.channels_last == "auto"):
            raise ValueError(f"train.channels_last: auto, true or false must hold, but got "
                             f"{self.channels_last!r}. Leave it out to measure which is faster.")
        if not self.cache_limit_mb >= 0:
            raise ValueError(f"train.cache_limit_mb: cache_limit_mb >= 0 must hold, but got "
                             f"{self.cache_limit_mb}. Use 0 to never cache a frozen prefix.")


def _augment_config(value: object) -> AugmentConfig:
    """An :class:`AugmentConfig` from a name, a mapping of its fields, or itself."""
    if isinstance(value, AugmentConfig):
        return value
    if isinstance(value, str):
        return AugmentConfig(value)
    if isinstance(value, dict):
        valid = {f.name for f in dataclasses.fields(AugmentConfig)}
        unknown = sorted(set(value) - valid)
        if unknown:
            raise ValueError(f"train.augment: keys must be among {sorted(valid)}, but got "
                             f"{unknown}. Example: {{name: mixup, mixup_alpha: 0.2}}.")
        return AugmentConfig(**value)
    raise ValueError(f"train.augment: it must be a name or a mapping, but got {value!r}. "
                     "Example: flip_crop, or {name: mixup, mixup_alpha: 0.2}.")


@dataclass
class TrainResult:
    """What a finished training run produced.

    ``cached_features``: the head trained on stored pre-logit features. ``cached_blocks``: how
    many input-side blocks ran once per trial instead of every step (all of them with cached
    features, ``k`` with a cached frozen prefix, 0 on the uncached path).
    """

    best_val_acc: float
    best_epoch: int
    epochs_run: int
    trainable_params: int
    train_time_s: float
    total_params: int = 0
    cached_features: bool = False
    cached_blocks: int = 0
    peak_mem_mb: float = 0.0
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
    start = time.perf_counter()
    memory = PeakMemory(device)
    precision = make_precision(cfg.precision, device)
    if cfg.channels_last is True:
        model.to(memory_format=torch.channels_last)
    set_requires_grad(strategy, groups, 0)
    optimizer = create_optimizer_v2(param_groups(strategy, groups, 0), opt=cfg.optimizer,
                                    **_step_kernel(cfg.optimizer, device))
    augment = make_augment(cfg.augment, model.num_classes)
    route = choose_route(model, strategy, groups, data, cfg, augment, device)
    batches = Batches(route.x_train, data.y_train, cfg.batch_size, device, seed, route.prepare,
                      None if route.cached_blocks else augment)
    steps = batches.steps_per_epoch
    result = TrainResult(0.0, 0, 0, count_trainable(model), 0.0,
                         total_params=sum(p.numel() for p in model.parameters()),
                         cached_features=route.cached, cached_blocks=route.cached_blocks)
    for epoch in range(cfg.max_epochs):
        sync_optimizer(optimizer, strategy, groups, epoch)
        set_train_mode(model, strategy, groups, epoch)
        factor = partial(_factor, step0=epoch * steps, total=cfg.max_epochs * steps,
                         warmup=cfg.warmup_epochs * steps)
        loss = _train_epoch(route.net, optimizer, batches, cfg, factor, precision)
        with precision.autocast():
            val_acc = _accuracy(route.net, route.x_val, data.y_val, route.prepare, device)
        metrics = {"train_loss": loss, "val_acc": val_acc,
                   "trainable_params": count_trainable(model)}
        _record(result, model, epoch + 1, metrics)
        result.train_time_s = time.perf_counter() - start
        result.peak_mem_mb = memory.peak_mb()
        if report is not None:
            report(epoch + 1, metrics)
        if epoch + 1 - result.best_epoch >= cfg.patience:
            break
    result.trainable_params = max(h["trainable_params"] for h in result.history)
    return result


_FUSED = {"adam", "adamw"}
"""timm optimizer names that build torch's Adam/AdamW, which has a fused step on CPU and CUDA."""


def _step_kernel(optimizer: str, device: torch.device) -> dict[str, bool]:
    """One fused kernel per param group where torch has it, else the multi-tensor step: with
    a group per block, the per-group cost of the multi-tensor step shows on small models."""
    if optimizer.lower() in _FUSED and device.type in ("cpu", "cuda"):
        return {"fused": True}
    return {"foreach": True}


def _factor(i: int, *, step0: int, total: int, warmup: int) -> float:
    """The schedule factor of step ``i`` of the current epoch."""
    return lr_factor(step0 + i, total, warmup)


def _record(result: TrainResult, model: nn.Module, epoch: int, metrics: dict) -> None:
    """Append an epoch to the history; keep a copy of the weights when validation improves."""
    result.history.append({"epoch": epoch, **metrics})
    result.epochs_run = epoch
    if metrics["val_acc"] > result.best_val_acc or result.best_state is None:
        result.best_val_acc = metrics["val_acc"]
        result.best_epoch = epoch
        result.best_state = copy.deepcopy(model.state_dict())


def _train_epoch(model, optimizer, batches: Batches, cfg: TrainConfig, factor,
                 precision: Precision) -> float:
    """One pass over the training set; returns the mean training loss."""
    trainable = [p for g in optimizer.param_groups for p in g["params"]]
    total, count = 0.0, 0
    for i, (x, y) in enumerate(batches):
        apply_schedule(optimizer, factor(i))
        with precision.autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
        if not math.isfinite(loss.item()):
            raise TrainingDiverged(f"training loss became {loss.item()} at step {i}")
        optimizer.zero_grad(set_to_none=True)
        precision.backward(loss, optimizer)
        if cfg.grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(trainable, cfg.grad_clip_norm)
        precision.step(optimizer)
        total += loss.item() * len(y)
        count += len(y)
    return total / max(1, count)


@torch.no_grad()
def _outputs(net: nn.Module, x: torch.Tensor, prepare: Prepare, device) -> torch.Tensor:
    """Predicted labels of ``net`` in eval mode, in batches of 512."""
    net.eval()
    preds = [net(prepare(x[i : i + 512].to(device, non_blocking=True))).argmax(1).cpu()
             for i in range(0, len(x), 512)]
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)


def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, prepare: Prepare, device) -> float:
    """Accuracy of ``net`` on stored inputs ``x``."""
    return (_outputs(net, x, prepare, device) == y).float().mean().item()


def predict(model: nn.Module, x: torch.Tensor, data: TensorData, device) -> torch.Tensor:
    """Predicted labels of the full model for uint8 images ``x``."""
    return _outputs(model, x, data.normalise, device)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, data: TensorData,
             device) -> float:
    """Accuracy of the full model on uint8 images ``x`` with labels ``y``."""
    return _accuracy(model, x, y, data.normalise, device)
