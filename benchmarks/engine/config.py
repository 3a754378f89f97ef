"""How one trial trains, whatever the strategy: the ``train:`` section of a suite."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from benchmarks.engine.augment import AugmentConfig
from benchmarks.engine.loss import LossConfig


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
            both on CUDA, bf16 on CPU, fp32 only on MPS (:mod:`benchmarks.engine.precision`).
        channels_last: model and image batches in channels-last memory format: True,
            False, or ``auto`` (the default): the suite run measures both per backbone and
            device and passes the faster (:mod:`benchmarks.models.memory_format`); ``train`` itself
            runs contiguous when given ``auto``.
        cache_features: compute once per trial what cannot change during it, and train on
            the stored outputs: the backbone's features when every block stays frozen
            (:mod:`benchmarks.engine.features`), else the activations of the input-side blocks that
            stay frozen (:mod:`benchmarks.engine.prefix`).
        cache_limit_mb: the most memory (on ``device``) the stored activations of a frozen
            prefix may take; above it the trial runs the whole network on images instead.
        schedule: ``cosine`` (one cosine decay after the warm-up) or ``cosine_restarts``
            (cosine annealing with warm restarts, :mod:`benchmarks.engine.schedule`).
        restart_epochs: the first cycle of ``cosine_restarts``, in epochs (T_0).
        restart_mult: how many times longer each next cycle is (T_mult).
        loss: the training loss (:mod:`benchmarks.engine.loss`): a name (``cross_entropy``,
            ``weighted_cross_entropy``, ``focal``) or a mapping of
            :class:`~benchmarks.engine.loss.LossConfig` fields (``{name: focal, gamma: 2}``).
        augment: the batch augmentation of training images (:mod:`benchmarks.engine.augment`): a
            name (``none``, ``flip_crop``, ``randaugment``, ``mixup``, ``cutmix``) or a mapping
            of :class:`~benchmarks.engine.augment.AugmentConfig` fields. Anything but ``none``
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
    schedule: str = "cosine"
    restart_epochs: int = 5
    restart_mult: int = 2
    loss: LossConfig = field(default_factory=LossConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        for key in SUBSECTIONS:
            object.__setattr__(self, key, _sub_config(key, getattr(self, key)))
        if self.loss.name != "cross_entropy" and self.augment.name in ("mixup", "cutmix"):
            raise ValueError(f"train.loss: {self.loss.name} needs hard labels, but "
                             f"augment {self.augment.name} mixes them. Use cross_entropy "
                             "with mixup or cutmix, or another augmentation.")
        if not (isinstance(self.channels_last, bool) or self.channels_last == "auto"):
            raise ValueError(f"train.channels_last: auto, true or false must hold, but got "
                             f"{self.channels_last!r}. Leave it out to measure which is faster.")
        if not self.cache_limit_mb >= 0:
            raise ValueError(f"train.cache_limit_mb: cache_limit_mb >= 0 must hold, but got "
                             f"{self.cache_limit_mb}. Use 0 to never cache a frozen prefix.")


SUBSECTIONS = {"augment": (AugmentConfig, "flip_crop", "{name: mixup, mixup_alpha: 0.2}"),
               "loss": (LossConfig, "weighted_cross_entropy", "{name: focal, gamma: 2}")}
"""Fields of :class:`TrainConfig` given as a name or a mapping: (class, example name,
example mapping)."""


def _sub_config(key: str, value: object) -> object:
    """``train.<key>`` as its config class: from a name, a mapping of its fields, or itself."""
    cls, name, mapping = SUBSECTIONS[key]
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        return cls(value)
    if isinstance(value, dict):
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(value) - valid)
        if unknown:
            raise ValueError(f"train.{key}: keys must be among {sorted(valid)}, but got "
                             f"{unknown}. Example: {mapping}.")
        return cls(**value)
    raise ValueError(f"train.{key}: it must be a name or a mapping, but got {value!r}. "
                     f"Example: {name}, or {mapping}.")
