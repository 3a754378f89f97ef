"""The strategy contract: a config dataclass, a search space, and which blocks train at what LR."""

from __future__ import annotations

import dataclasses
import difflib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import torch
    from torch import nn

    from strategies.groups import Block, LayerGroups

HEAD = -1
"""Block index used for the classifier head in :meth:`Strategy.lr_for`."""

LR_RANGE = (1e-6, 1e-1)
"""Search range of every base LR: wider than any guideline row so the comparison is not forced."""


class BNPolicy(str, Enum):
    """What BatchNorm layers do during training.

    ``train``: running statistics update and affine parameters train with their block.
    ``frozen_stats``: the layer runs in eval mode (running statistics fixed); affine
    parameters still follow their block. ``frozen``: eval mode and affine parameters frozen.
    """

    TRAIN = "train"
    FROZEN_STATS = "frozen_stats"
    FROZEN = "frozen"


@dataclass(frozen=True)
class StrategyContext:
    """Facts about the backbone and budget that a search space or default may depend on."""

    n_blocks: int
    max_epochs: int


@dataclass(frozen=True)
class StrategyConfig:
    """Hyperparameters every strategy has.

    Attributes:
        lr: base learning rate (the head's LR unless a strategy says otherwise).
        weight_decay: decoupled weight decay for tensors of rank >= 2 (AdamW, seed 002).
        bn_trainable: BatchNorm policy in blocks that train.
        bn_frozen: BatchNorm policy in frozen blocks (``train`` reproduces the trap of
            "frozen" blocks whose running statistics still drift).
    """

    lr: float = 1e-3
    weight_decay: float = 0.01
    bn_trainable: BNPolicy = BNPolicy.TRAIN
    bn_frozen: BNPolicy = BNPolicy.FROZEN_STATS

    def __post_init__(self) -> None:
        for name in ("bn_trainable", "bn_frozen"):
            object.__setattr__(self, name, _bn_policy(name, getattr(self, name)))
        if not self.lr > 0:
            raise ValueError(f"config field 'lr': lr > 0 must hold, but got {self.lr}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict (enums as their values)."""
        out = dataclasses.asdict(self)
        return {k: (v.value if isinstance(v, Enum) else v) for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrategyConfig:
        """Build a config from a dict, rejecting unknown keys with the closest valid names."""
        fields = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in fields:
                close = difflib.get_close_matches(key, sorted(fields), n=3)
                hint = f" Did you mean: {', '.join(close)}?" if close else ""
                raise ValueError(
                    f"config key '{key}': it must be one of {sorted(fields)}, "
                    f"but got '{key}' for {cls.__name__}.{hint}"
                )
        return cls(**data)


def _bn_policy(field: str, value: BNPolicy | str) -> BNPolicy:
    """Coerce a string to :class:`BNPolicy` with a clear error."""
    try:
        return BNPolicy(value)
    except ValueError:
        valid = [p.value for p in BNPolicy]
        raise ValueError(
            f"config field '{field}': it must be one of {valid}, but got {value!r}."
        ) from None


class Strategy(ABC):
    """A fine-tuning strategy: which blocks train at each epoch, and at which LR.

    Subclasses set ``name``, ``summary``, ``config_cls`` and ``searched``; implement
    :meth:`frozen_blocks`, :meth:`default_config` and :meth:`suggest`; and may override
    :meth:`lr_for` and :meth:`skip`. The training loop applies the result through
    :mod:`strategies.apply`; a strategy never touches an optimizer itself.

    Three optional abilities, whose defaults change nothing: :meth:`block_tensors` (which
    tensors of an unfrozen block train: BitFit's biases), :meth:`prepare_model` (transform
    the model in place before training: adapters such as LoRA) and :meth:`penalty` (a term
    added to the training loss: L2-SP's pull towards the starting weights).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    config_cls: ClassVar[type[StrategyConfig]] = StrategyConfig
    searched: ClassVar[tuple[str, ...]] = ("lr",)
    pretrained: ClassVar[bool] = True

    def __init__(self, config: StrategyConfig | None = None) -> None:
        cfg = config if config is not None else self.config_cls()
        if not isinstance(cfg, self.config_cls):
            raise TypeError(
                f"strategy '{self.name}': config must be a {self.config_cls.__name__}, "
                f"but got {type(cfg).__name__}."
            )
        self.config = cfg

    @classmethod
    @abstractmethod
    def default_config(cls, ctx: StrategyContext) -> StrategyConfig:
        """The tutorials' recommended configuration (trial 0 of every cell)."""

    @classmethod
    @abstractmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> StrategyConfig:
        """Sample a configuration, define-by-run, from an Optuna trial."""

    @abstractmethod
    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        """Indices of backbone blocks frozen during ``epoch`` (0-based); the head always trains."""

    def lr_for(self, block: int, n_blocks: int, epoch: int) -> float:
        """Nominal LR of a trainable block (``HEAD`` for the head) during ``epoch``."""
        return self.config.lr

    def block_tensors(self, block: Block) -> tuple[nn.Parameter, ...]:
        """The tensors of an unfrozen ``block`` that train: all of them by default. The
        BatchNorm policy ``frozen`` still takes the norm layers' tensors out of the result."""
        return block.params

    def prepare_model(self, model: nn.Module) -> bool:
        """Called once before training (and again harmlessly): change ``model`` in place.

        Returns:
            True when the model's structure changed (adapters added), so that the caller
            rebuilds the layer groups; False by default, where nothing is done.
        """
        return False

    def penalty(self, groups: LayerGroups) -> torch.Tensor | None:
        """A term added to every training step's loss (a regulariser of the parameters in
        ``groups``), or None for none (the default)."""
        return None

    def skip(self, ctx: StrategyContext) -> str | None:
        """A reason why this configuration cannot run on this backbone, or None."""
        return None

    def search_params(self) -> dict[str, Any]:
        """The searched hyperparameters of this configuration, as Optuna param names."""
        values = self.config.to_dict()
        return {name: values[name] for name in self.searched}

    @classmethod
    def suggest_lr(cls, trial: Any, name: str = "lr") -> float:
        """The shared LR search dimension: log-uniform over :data:`LR_RANGE`."""
        return trial.suggest_float(name, *LR_RANGE, log=True)
