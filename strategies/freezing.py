"""Strategies that freeze a fixed set of blocks: feature extraction, partial freezing, full FT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strategies.base import Strategy, StrategyConfig, StrategyContext
from strategies.registry import register_strategy

# Default LRs are the geometric middle of the guideline's LR range for the row that
# recommends each strategy (shared GUIDELINES.md section 1).


@register_strategy
class FeatureExtraction(Strategy):
    """Backbone frozen (BatchNorm statistics too); only a new head trains."""

    name = "feature_extraction"
    summary = "freeze the whole backbone, train a new head (guideline: < 1k samples)"

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> StrategyConfig:
        return StrategyConfig(lr=3e-4)

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> StrategyConfig:
        return StrategyConfig(lr=cls.suggest_lr(trial))

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset(range(n_blocks))


@dataclass(frozen=True)
class PartialFreezeConfig(StrategyConfig):
    """Partial freezing: ``k`` = number of blocks frozen from the input side."""

    k: int = 1


@register_strategy
class PartialFreeze(Strategy):
    """The first ``k`` blocks frozen; the rest and the head train at one LR."""

    name = "partial_freeze"
    summary = "freeze the first k blocks, train the rest (guideline: 1k-10k samples)"
    config_cls = PartialFreezeConfig
    searched = ("lr", "k")

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> PartialFreezeConfig:
        # The tutorials freeze everything below the last stage (ResNet: train layer4 + fc).
        return PartialFreezeConfig(lr=2e-4, k=max(1, ctx.n_blocks - 1))

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> PartialFreezeConfig:
        lr = cls.suggest_lr(trial)
        k = trial.suggest_int("k", 1, max(1, ctx.n_blocks - 1))
        return PartialFreezeConfig(lr=lr, k=k)

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset(range(min(self.config.k, n_blocks)))

    def skip(self, ctx: StrategyContext) -> str | None:
        k = self.config.k
        if not 1 <= k < ctx.n_blocks:
            return (
                f"partial_freeze: 1 <= k < n_blocks must hold, but got k={k} for a backbone "
                f"with {ctx.n_blocks} blocks"
            )
        return None


@register_strategy
class FullFinetune(Strategy):
    """Every parameter trains at one LR, starting from the pretrained weights."""

    name = "full_finetune"
    summary = "fine-tune everything at one LR (guideline: > 10k samples)"

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> StrategyConfig:
        return StrategyConfig(lr=3e-5)

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> StrategyConfig:
        return StrategyConfig(lr=cls.suggest_lr(trial))

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset()


@register_strategy
class FromScratch(FullFinetune):
    """Same architecture, random initialisation: the negative-transfer baseline."""

    name = "from_scratch"
    summary = "same architecture, random init, everything trained (baseline)"
    pretrained = False

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> StrategyConfig:
        # Seed 004: fine-tuning uses an LR about 10x smaller than training from scratch.
        return StrategyConfig(lr=3e-4)
