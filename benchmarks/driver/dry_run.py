"""``ftbench run SUITE --dry-run``: the grid, the trainings it holds and an estimate of its
time from a few training steps measured on this machine; nothing is written.

The estimate is an upper bound: every trial and final seed runs its whole epoch budget
(pruning and early stopping only shorten it), each epoch trains on the training images and
scores the validation images, and each final seed scores the test split once. A strategy that
keeps every block frozen for the whole run with cached features (``feature_extraction``)
costs one forward pass over its images per training instead.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmarks.data import TaskData, load_dataset, validation_size
from benchmarks.driver.grid import cells, resolve_plan
from benchmarks.driver.machine import check_device
from benchmarks.engine.config import TrainConfig
from benchmarks.models.backbones import check_backbone_name, create_backbone, input_size
from benchmarks.models.cost import input_channels, throughput
from benchmarks.models.memory_format import measure_formats
from benchmarks.models.pretrain import checkpoint_path
from benchmarks.models.ref import BackboneRef
from benchmarks.suite.model import Suite
from strategies import StrategyContext, get_strategy, layer_groups


@dataclass(frozen=True)
class Speed:
    """A backbone's measured speed on this machine, at the size its cells run."""

    input_size: int
    train_img_per_s: float
    infer_img_per_s: float
    channels_last: bool
    n_blocks: int


@dataclass(frozen=True)
class CellEstimate:
    """One cell's budget and its estimated seconds (an upper bound)."""

    key: str
    epochs: int
    n_train: int
    n_val: int
    trainings: int
    seconds: float


def dry_run(suite: Suite, cache: Path) -> str:
    """The text ``--dry-run`` prints: the grid, its trainings and the estimated time.

    Raises:
        ValueError: the same one-line errors a run gives for unknown names, sizes that do
            not fit, missing data or an unusable device.
    """
    check_device(suite.train.device)
    for name in suite.strategies:
        get_strategy(name)
    for ref in suite.backbones:
        check_backbone_name(ref.name)
    tasks = {ref.key: ref.load() for ref in suite.datasets}
    plan = resolve_plan(suite, tasks)
    speeds = {ref.key: _speed(suite, ref, tasks, cache) for ref in suite.backbones}
    estimates = [_estimate(suite, cell, tasks[cell.dataset], speeds[cell.backbone])
                 for cell in cells(suite, plan)]
    return _text(suite, speeds, estimates, _pretraining(suite, cache, speeds))


def _speed(suite: Suite, ref: BackboneRef, tasks: dict[str, TaskData], cache: Path) -> Speed:
    """Time a few training steps (both memory formats, unless the suite fixes one) and
    inference batches of a randomly initialised copy of the backbone."""
    n_classes = max(len(task.classes) for task in tasks.values())
    size = ref.input_size or _weights_input_size(suite, ref, cache)
    device, batch = suite.train.device, suite.train.batch_size
    rates = measure_formats(lambda: create_backbone(ref.name, n_classes), size, batch, device)
    setting = suite.train.channels_last
    last = setting if isinstance(setting, bool) else rates[1] > rates[0]
    model = create_backbone(ref.name, n_classes).to(device)
    x = torch.randn(max(batch, 64), input_channels(model), size, size, device=device)
    infer = throughput(model, x, min_time_s=1.0)
    return Speed(size, rates[1] if last else rates[0], infer, last,
                 layer_groups(model).n_blocks)


def _weights_input_size(suite: Suite, ref: BackboneRef, cache: Path) -> int:
    """The input size the run would use: ftbench's cached checkpoint's, else the pretraining
    images' side, else the model's pretrained configuration."""
    if ref.kind != "ftbench":
        return input_size(create_backbone(ref.name, 2))
    meta = checkpoint_path(dataclasses.replace(suite.pretrain, backbone=ref.name),
                           cache).with_suffix(".json")
    if meta.is_file():
        return int(json.loads(meta.read_text())["input_size"])
    images = load_dataset(suite.pretrain.dataset, **suite.pretrain.dataset_options).train.images
    return int(images.shape[-1])


def _estimate(suite: Suite, cell, task: TaskData, speed: Speed) -> CellEstimate:
    cfg: TrainConfig = suite.train_config(cell.size)
    n_val = validation_size(cell.n_train, len(task.classes), suite.val_fraction)
    n_test = len(task.test.labels)
    trainings = suite.trials + len(suite.seeds)
    if _features_cached(cell.strategy, speed.n_blocks, cfg):
        per = (cell.n_train + n_val) / speed.infer_img_per_s
    else:
        per = cfg.max_epochs * (cell.n_train / speed.train_img_per_s
                                + n_val / speed.infer_img_per_s)
    seconds = trainings * per + len(suite.seeds) * n_test / speed.infer_img_per_s
    return CellEstimate(cell.key, cfg.max_epochs, cell.n_train, n_val, trainings, seconds)


def _features_cached(strategy: str, n_blocks: int, cfg: TrainConfig) -> bool:
    """Whether the strategy's default keeps every block frozen in every epoch, with cached
    features allowed (no augmentation)."""
    if not cfg.cache_features or cfg.augment.name != "none":
        return False
    cls = get_strategy(strategy)
    ctx = StrategyContext(n_blocks=n_blocks, max_epochs=cfg.max_epochs)
    plan = cls(cls.default_config(ctx))
    return all(len(plan.frozen_blocks(n_blocks, e)) == n_blocks for e in range(cfg.max_epochs))


def _pretraining(suite: Suite, cache: Path, speeds: dict[str, Speed]) -> list[str]:
    """One line per backbone that ftbench pretrains: cached, or its estimated time."""
    lines = []
    for ref in suite.backbones:
        if ref.kind != "ftbench":
            continue
        cfg = dataclasses.replace(suite.pretrain, backbone=ref.name)
        if checkpoint_path(cfg, cache).exists():
            lines.append(f"pretraining {ref.name} on {cfg.dataset}: cached")
            continue
        n = len(load_dataset(cfg.dataset, **cfg.dataset_options).train.labels)
        seconds = cfg.epochs * n / speeds[ref.key].train_img_per_s
        lines.append(f"pretraining {ref.name} on {cfg.dataset}: {cfg.epochs} epochs over {n:,} "
                     f"images, about {_duration(seconds)}")
    return lines


def _text(suite: Suite, speeds: dict[str, Speed], estimates: list[CellEstimate],
          pretraining: list[str]) -> str:
    n_cells = len(estimates)
    trainings = sum(e.trainings for e in estimates)
    sizes = len({(e.key.split("/")[1], e.n_train) for e in estimates})
    lines = [(f"suite {suite.name}: {len(suite.backbones)} backbone(s) x {len(suite.datasets)} "
             f"dataset(s), {sizes} dataset size(s) in all, x {len(suite.strategies)} "
             f"strategies = {n_cells} cells"),
             (f"each cell: {suite.trials} trials + {len(suite.seeds)} final seeds; "
             f"{trainings:,} trainings in all{_reach_note(suite, n_cells)}"),
             *pretraining]
    for key, speed in speeds.items():
        fmt = "channels-last" if speed.channels_last else "contiguous"
        lines.append(f"measured here ({suite.train.device}, {torch.get_num_threads()} threads): "
                     f"{key} at {speed.input_size} px, batch {suite.train.batch_size}: "
                     f"{speed.train_img_per_s:,.0f} images/s training ({fmt}), "
                     f"{speed.infer_img_per_s:,.0f} images/s inference")
    width = max(len(e.key) for e in estimates) if estimates else 4
    lines.append(f"{'cell':<{width}}  epochs  train+val images  trainings  at most")
    lines += [f"{e.key:<{width}}  {e.epochs:>6}  {e.n_train:>7,} + {e.n_val:<6,}  "
              f"{e.trainings:>9}  {_duration(e.seconds):>7}" for e in estimates]
    total = sum(e.seconds for e in estimates)
    lines.append(f"total: at most {_duration(total)} (every training at its full epoch "
                 "budget; pruning, early stopping and cached prefixes make it shorter)")
    lines.append("nothing was written")
    return "\n".join(lines)


def _reach_note(suite: Suite, n_cells: int) -> str:
    """The second stage's most trainings, which the estimate leaves out."""
    extra = len(suite.seeds_within_reach)
    if not extra:
        return ""
    return (f", and at most {extra * n_cells:,} more where a verdict is within reach "
            f"(seeds {list(suite.seeds_within_reach)}; not in the estimate below)")


def _duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.4 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
