"""The training loop: one model, one strategy, tensors in memory; no Optuna, no MLflow."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import torch
from timm.optim import create_optimizer_v2
from torch import nn

from benchmarks.engine.augment import make_augment
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.loss import Loss, make_loss
from benchmarks.engine.memory import PeakMemory
from benchmarks.engine.placement import place
from benchmarks.engine.precision import Precision, make_precision
from benchmarks.engine.route import choose_route
from benchmarks.engine.schedule import apply_schedule, lr_factor
from benchmarks.engine.tensors import Batches, Prepare, TensorData
from strategies import (
    LayerGroups,
    Strategy,
    count_trainable,
    layer_groups,
    param_groups,
    set_requires_grad,
    set_train_mode,
    sync_optimizer,
)

Report = Callable[[int, dict[str, float]], None]
"""Called after every epoch with the 1-based epoch and its metrics; may raise to stop."""


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass
class TrainResult:
    """What a finished training run produced.

    ``cached_features``: the head trained on stored pre-logit features. ``cached_blocks``: how
    many input-side blocks ran once per trial instead of every step (all of them with cached
    features, ``k`` with a cached frozen prefix, 0 on the uncached path). ``data_on_device``:
    the images lived on the training device (:mod:`benchmarks.engine.placement`; always on a
    CPU), else ``data_note`` says why they stayed on the host.
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
    data_on_device: bool = True
    data_note: str = ""
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
    """Train ``model`` under ``strategy`` and keep the weights of the best validation epoch.

    The strategy first prepares the model in place (adapters; ``groups`` are then rebuilt
    from it), and its penalty, if any, joins every step's loss (``train_loss`` is the total).
    """
    torch.manual_seed(seed)
    if strategy.prepare_model(model):
        groups = layer_groups(model)
    device = torch.device(cfg.device)
    model.to(device)
    start = time.perf_counter()
    memory = PeakMemory(device)
    placed = place(data, device)
    data = placed.data
    precision = make_precision(cfg.precision, device)
    if cfg.channels_last is True:
        model.to(memory_format=torch.channels_last)
    set_requires_grad(strategy, groups, 0)
    optimizer = create_optimizer_v2(param_groups(strategy, groups, 0), opt=cfg.optimizer,
                                    **_step_kernel(cfg.optimizer, device))
    augment = make_augment(cfg.augment, model.num_classes)
    loss_fn = make_loss(cfg.loss, data.y_train, model.num_classes, cfg.label_smoothing, device)
    route = choose_route(model, strategy, groups, data, cfg, augment, device)
    batches = Batches(route.x_train, data.y_train, cfg.batch_size, device, seed, route.prepare,
                      None if route.cached_blocks else augment)
    steps = batches.steps_per_epoch
    result = TrainResult(0.0, 0, 0, count_trainable(model), 0.0,
                         total_params=sum(p.numel() for p in model.parameters()),
                         cached_features=route.cached, cached_blocks=route.cached_blocks,
                         data_on_device=placed.on_device, data_note=placed.reason)
    for epoch in range(cfg.max_epochs):
        sync_optimizer(optimizer, strategy, groups, epoch)
        set_train_mode(model, strategy, groups, epoch)
        restarts = cfg.restart_epochs * steps if cfg.schedule == "cosine_restarts" else 0
        factor = partial(_factor, step0=epoch * steps, total=cfg.max_epochs * steps,
                         warmup=cfg.warmup_epochs * steps, restarts=restarts,
                         mult=cfg.restart_mult)
        loss = _train_epoch(route.net, optimizer, batches, cfg, factor, precision,
                            partial(strategy.penalty, groups), loss_fn)
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


def _factor(i: int, *, step0: int, total: int, warmup: int, restarts: int, mult: int) -> float:
    """The schedule factor of step ``i`` of the current epoch."""
    return lr_factor(step0 + i, total, warmup, restarts, mult)


def _record(result: TrainResult, model: nn.Module, epoch: int, metrics: dict) -> None:
    """Append an epoch to the history; keep a copy of the weights when validation improves."""
    result.history.append({"epoch": epoch, **metrics})
    result.epochs_run = epoch
    if metrics["val_acc"] > result.best_val_acc or result.best_state is None:
        result.best_val_acc = metrics["val_acc"]
        result.best_epoch = epoch
        result.best_state = copy.deepcopy(model.state_dict())


def _train_epoch(model, optimizer, batches: Batches, cfg: TrainConfig, factor,
                 precision: Precision, penalty: Callable[[], torch.Tensor | None],
                 loss_fn: Loss) -> float:
    """One pass over the training set; returns the mean training loss (penalty included).

    The loss is summed on the device and read back every ``check_every`` steps only: a read
    waits for the device to finish all queued work, which on a GPU would leave it idle while
    Python queues the next step.
    """
    trainable = [p for g in optimizer.param_groups for p in g["params"]]
    total = _accumulator(batches.device)
    count, every = 0, check_every(batches.device)
    for i, (x, y) in enumerate(batches):
        apply_schedule(optimizer, factor(i))
        with precision.autocast():
            logits = model(x)
        loss = loss_fn(logits.float(), y)
        extra = penalty()
        if extra is not None:
            loss = loss + extra.float()
        optimizer.zero_grad(set_to_none=True)
        precision.backward(loss, optimizer)
        if cfg.grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(trainable, cfg.grad_clip_norm)
        precision.step(optimizer)
        total += loss.detach().to(total.dtype) * len(y)
        count += len(y)
        if (i + 1) % every == 0:
            _check_finite(total, i, every)
    return _check_finite(total, i if count else 0, every) / max(1, count)


def check_every(device: torch.device) -> int:
    """Steps between reads of the summed loss: every step on a CPU (a read costs nothing
    there, and a diverged trial stops at once), every 25 on an accelerator."""
    return 1 if torch.device(device).type == "cpu" else 25


def _accumulator(device: torch.device) -> torch.Tensor:
    """A zero on ``device`` to sum the loss in: float64 (the sum a Python float gives), or
    float32 where the device has no float64 (MPS)."""
    dtype = torch.float32 if device.type == "mps" else torch.float64
    return torch.zeros((), dtype=dtype, device=device)


def _check_finite(total: torch.Tensor, step: int, every: int) -> float:
    """The summed loss as a float; raises :class:`TrainingDiverged` if it is not finite."""
    value = total.item()
    if not math.isfinite(value):
        when = f"at step {step}" if every == 1 else f"within the {every} steps up to {step}"
        raise TrainingDiverged(f"training loss became {value} {when}")
    return value


@torch.no_grad()
def _outputs(net: nn.Module, x: torch.Tensor, prepare: Prepare, device) -> torch.Tensor:
    """Predicted labels of ``net`` in eval mode, in batches of 512."""
    net.eval()
    preds = [net(prepare(x[i : i + 512].to(device, non_blocking=True))).argmax(1).cpu()
             for i in range(0, len(x), 512)]
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)


def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, prepare: Prepare, device) -> float:
    """Accuracy of ``net`` on stored inputs ``x``."""
    return (_outputs(net, x, prepare, device) == y.cpu()).float().mean().item()


def predict(model: nn.Module, x: torch.Tensor, data: TensorData, device,
            precision: str = "fp32") -> torch.Tensor:
    """Predicted labels of the full model for uint8 images ``x``, in the autocast of
    ``precision`` (the training's, as its validation passes ran)."""
    with make_precision(precision, device).autocast():
        return _outputs(model, x, data.normalise, device)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, data: TensorData,
             device) -> float:
    """Accuracy of the full model on uint8 images ``x`` with labels ``y``."""
    return _accuracy(model, x, y, data.normalise, device)
