"""ftbench's own pretraining: train a backbone on a source task and cache the checkpoint."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import timm
import torch

from benchmarks.data import dataset_fingerprint, load_dataset
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.tensors import TensorData
from benchmarks.engine.training import Report, TrainingDiverged, train
from benchmarks.models.backbones import create_backbone, normalisation
from strategies import StrategyConfig, get_strategy, layer_groups

PRETRAIN_VERSION = 2
"""Bump when the pretraining procedure changes, so that stale checkpoints are not reused."""


@dataclass(frozen=True)
class PretrainConfig:
    """Everything that determines a pretrained checkpoint."""

    backbone: str = "test_resnet"
    dataset: str = "synth_source"
    dataset_options: dict = field(default_factory=dict)
    epochs: int = 6
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    seed: int = 0

    def cache_key(self) -> str:
        """A short hash of the config, the data, and the library versions that shape weights."""
        blob = json.dumps(
            {
                "config": dataclasses.asdict(self),
                "data": dataset_fingerprint(self.dataset, **self.dataset_options),
                "timm": timm.__version__,
                "version": PRETRAIN_VERSION,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Pretrained:
    """A pretrained checkpoint and the input size it was trained at.

    Attributes:
        path: the checkpoint file.
        input_size: side of the square images the backbone was pretrained on; target data is
            resized to it, as timm's ``pretrained_cfg['input_size']`` says for hub weights.
        meta: the metadata written beside the checkpoint, plus ``cached``.
    """

    path: Path
    input_size: int
    meta: dict


def default_cache_dir() -> Path:
    """``$FTBENCH_CACHE`` or ``~/.cache/ftbench``."""
    env = os.environ.get("FTBENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "ftbench"


def checkpoint_path(cfg: PretrainConfig, cache_dir: Path) -> Path:
    """Where the checkpoint for ``cfg`` lives in the cache."""
    return cache_dir / "checkpoints" / f"{cfg.backbone}-{cfg.dataset}-{cfg.cache_key()}.pt"


def ensure_pretrained(
    cfg: PretrainConfig, cache_dir: Path, report: Report | None = None
) -> Pretrained:
    """Return the cached checkpoint for ``cfg``, pretraining it first if absent."""
    path = checkpoint_path(cfg, cache_dir)
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = {**json.loads(meta_path.read_text()), "cached": True}
    else:
        meta = _pretrain(cfg, path, report)
        _atomic_write_text(meta_path, json.dumps(meta, indent=2))
        meta = {**meta, "cached": False}
    return Pretrained(path, int(meta["input_size"]), meta)


def _pretrain(cfg: PretrainConfig, path: Path, report: Report | None) -> dict:
    """Train from random init on the source task and save the best-epoch weights."""
    task = load_dataset(cfg.dataset, **cfg.dataset_options)
    torch.manual_seed(cfg.seed)
    model = create_backbone(cfg.backbone, num_classes=len(task.classes))
    mean, std = normalisation(model)
    data = TensorData(task.train.images, task.train.labels, task.test.images,
                      task.test.labels, mean, std)
    strategy_cls = get_strategy("from_scratch")
    strategy = strategy_cls(StrategyConfig(lr=cfg.lr, weight_decay=cfg.weight_decay))
    train_cfg = TrainConfig(max_epochs=cfg.epochs, batch_size=cfg.batch_size, patience=cfg.epochs)
    try:
        result = train(model, strategy, layer_groups(model), data, train_cfg, seed=cfg.seed,
                       report=report)
    except TrainingDiverged as exc:
        raise ValueError(f"pretraining {cfg.backbone} on {cfg.dataset}: a finite training loss "
                         f"must hold, but {exc} with lr {cfg.lr:g}. Lower the pretraining lr "
                         "(pretrain: {lr: ...} in the suite, or --lr), e.g. to 2e-3; nothing "
                         "was cached.") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(result.best_state, tmp)
    os.replace(tmp, path)
    return {
        "config": dataclasses.asdict(cfg),
        "source_test_acc": result.best_val_acc,
        "best_epoch": result.best_epoch,
        "train_time_s": result.train_time_s,
        "input_size": int(task.train.images.shape[-1]),
    }


def check_export_path(out: Path) -> None:
    """Raise ``ValueError`` unless ``out`` is a new file with a checkpoint suffix."""
    from benchmarks.models.ref import CHECKPOINT_SUFFIXES

    if out.suffix not in CHECKPOINT_SUFFIXES:
        raise ValueError(f"output '{out}': its suffix must be one of "
                         f"{', '.join(CHECKPOINT_SUFFIXES)}, but it is '{out.suffix}'.")
    if out.exists() or out.with_suffix(".json").exists():
        raise ValueError(f"output '{out}': it (and its .json) must not exist yet, but it does. "
                         "Choose another path, or delete the old files first.")


def export_checkpoint(done: Pretrained, out: Path) -> Path:
    """Copy a pretrained checkpoint to ``out`` (``.safetensors`` or a torch file, by its
    suffix) with a sidecar ``out.with_suffix('.json')`` that names its input size, so that a
    suite can use it as ``weights: OUT``.

    Raises:
        ValueError: if ``out`` exists (nothing is overwritten) or has another suffix.
    """
    from benchmarks.models.checkpoints import read_state_dict, save_checkpoint

    check_export_path(out)
    save_checkpoint(read_state_dict(done.path), out)
    meta = {k: v for k, v in done.meta.items() if k != "cached"}
    _atomic_write_text(out.with_suffix(".json"), json.dumps(meta, indent=2))
    return out


def _atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
