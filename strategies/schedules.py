"""Strategies whose frozen set or LRs change with depth or epoch: gradual unfreezing,
discriminative LRs, LP-FT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strategies.base import HEAD, Strategy, StrategyConfig, StrategyContext
from strategies.registry import register_strategy


@dataclass(frozen=True)
class Stage:
    """One step of a gradual-unfreezing plan.

    Attributes:
        epoch: 0-based epoch at which the stage starts.
        blocks: how many more blocks, from the top down, are unfrozen then (-1: all left).
        lr: the LR of the blocks unfrozen at this stage.
    """

    epoch: int
    blocks: int
    lr: float


@dataclass(frozen=True)
class GradualUnfreezeConfig(StrategyConfig):
    """Head first, then blocks from the top down.

    With ``stages`` empty the plan is generated: every ``every`` epochs one more block is
    unfrozen, the block at distance d from the head at LR ``lr * decay**d``. A non-empty
    ``stages`` is the plan itself, e.g. seed 000's ResNet plan
    ``[(10, 1, 1e-4), (20, 1, 5e-5), (30, -1, 1e-5)]``.
    """

    every: int = 2
    decay: float = 0.5
    stages: tuple[Stage, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        stages = tuple(s if isinstance(s, Stage) else _stage(s) for s in self.stages)
        object.__setattr__(self, "stages", stages)
        if self.every < 1:
            raise ValueError(f"config field 'every': every >= 1 must hold, but got {self.every}.")


def _stage(value: Any) -> Stage:
    """A Stage from a dict or an (epoch, blocks, lr) sequence."""
    if isinstance(value, dict):
        return Stage(**value)
    epoch, blocks, lr = value
    return Stage(int(epoch), int(blocks), float(lr))


@register_strategy
class GradualUnfreeze(Strategy):
    """Layer-wise (gradual) unfreezing; each newly unfrozen block joins with its own LR."""

    name = "gradual_unfreeze"
    summary = "train the head, then unfreeze blocks top-down every m epochs (ULMFiT, seed 000)"
    config_cls = GradualUnfreezeConfig
    searched = ("lr", "every", "decay")

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> GradualUnfreezeConfig:
        # Seed 000's plan (head 0-10, layer4 at 1e-4, layer3 at 5e-5, all at 1e-5 from 30,
        # i.e. four equal phases) scaled to the epoch budget.
        q = max(1, ctx.max_epochs // 4)
        stages = (Stage(q, 1, 1e-4), Stage(2 * q, 1, 5e-5), Stage(3 * q, -1, 1e-5))
        return GradualUnfreezeConfig(lr=1e-3, every=q, decay=0.5, stages=stages)

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> GradualUnfreezeConfig:
        return GradualUnfreezeConfig(
            lr=cls.suggest_lr(trial),
            every=trial.suggest_int("every", 1, max(1, ctx.max_epochs // 2)),
            decay=trial.suggest_float("decay", 0.1, 1.0),
        )

    def plan(self, n_blocks: int) -> list[tuple[int, int, float]]:
        """(epoch, block index, LR) for every block, in the order they are unfrozen."""
        cfg = self.config
        if not cfg.stages:
            return [(d * cfg.every, n_blocks - d, cfg.lr * cfg.decay**d)
                    for d in range(1, n_blocks + 1)]
        out, top = [], n_blocks
        for stage in sorted(cfg.stages, key=lambda s: s.epoch):
            count = top if stage.blocks < 0 else min(stage.blocks, top)
            out += [(stage.epoch, top - i, stage.lr) for i in range(1, count + 1)]
            top -= count
        return out

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        unfrozen = {block for start, block, _ in self.plan(n_blocks) if start <= epoch}
        return frozenset(range(n_blocks)) - unfrozen

    def lr_for(self, block: int, n_blocks: int, epoch: int) -> float:
        if block == HEAD:
            return self.config.lr
        return next(lr for _, b, lr in self.plan(n_blocks) if b == block)


@dataclass(frozen=True)
class DiscriminativeLRConfig(StrategyConfig):
    """Per-block LRs: ``lr * decay**d`` for the block at distance d from the head."""

    decay: float = 0.9


@register_strategy
class DiscriminativeLR(Strategy):
    """All blocks train; the LR shrinks geometrically towards the input (ULMFiT, seed 000)."""

    name = "discriminative_lr"
    summary = "train everything, LR = base x decay^(distance from head) per block"
    config_cls = DiscriminativeLRConfig
    searched = ("lr", "decay")

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> DiscriminativeLRConfig:
        # Seed 000: decay 0.9, head at 1e-4 as in its explicit per-layer example.
        return DiscriminativeLRConfig(lr=1e-4, decay=0.9)

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> DiscriminativeLRConfig:
        # 0.3..1.0 covers ULMFiT's 1/2.6 = 0.385 and the tutorials' 0.9.
        return DiscriminativeLRConfig(lr=cls.suggest_lr(trial),
                                      decay=trial.suggest_float("decay", 0.3, 1.0))

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset()

    def lr_for(self, block: int, n_blocks: int, epoch: int) -> float:
        distance = 0 if block == HEAD else n_blocks - block
        return self.config.lr * self.config.decay**distance


@dataclass(frozen=True)
class LPFTConfig(StrategyConfig):
    """Linear probe for ``probe_epochs`` at ``probe_lr``, then everything at ``lr``."""

    probe_lr: float = 1e-3
    probe_epochs: int = 1


@register_strategy
class LPFT(Strategy):
    """Linear probing, then full fine-tuning from the probed head (Kumar et al., 2022)."""

    name = "lp_ft"
    summary = "linear probe first, then fine-tune everything (Kumar et al. 2022)"
    config_cls = LPFTConfig
    searched = ("lr", "probe_lr", "probe_epochs")

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> LPFTConfig:
        return LPFTConfig(lr=3e-5, probe_lr=3e-4, probe_epochs=max(1, ctx.max_epochs // 2))

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> LPFTConfig:
        return LPFTConfig(
            lr=cls.suggest_lr(trial),
            probe_lr=cls.suggest_lr(trial, "probe_lr"),
            probe_epochs=trial.suggest_int("probe_epochs", 1, max(1, ctx.max_epochs - 1)),
        )

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset(range(n_blocks)) if epoch < self.config.probe_epochs else frozenset()

    def lr_for(self, block: int, n_blocks: int, epoch: int) -> float:
        probing = epoch < self.config.probe_epochs
        return self.config.probe_lr if probing else self.config.lr
