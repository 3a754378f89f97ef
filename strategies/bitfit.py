"""BitFit: only the biases of the backbone (and, as a searched option, its normalisation
layers' parameters) train, with the new head (Zaken et al., 2022)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from strategies.base import Strategy, StrategyConfig, StrategyContext
from strategies.groups import Block
from strategies.registry import register_strategy


@dataclass(frozen=True)
class BitFitConfig(StrategyConfig):
    """BitFit: ``norm_params`` also trains the scales of normalisation layers (their biases
    are biases already)."""

    norm_params: bool = False


@register_strategy
class BitFit(Strategy):
    """Every block stays in place; of its tensors only the biases train."""

    name = "bitfit"
    summary = "train only the biases (optionally norm parameters) and the head (Zaken et al.)"
    config_cls = BitFitConfig
    searched = ("lr", "norm_params")

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> BitFitConfig:
        # BitFit's grid was 1e-4..1e-3: its geometric middle, biases only.
        return BitFitConfig(lr=3e-4)

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> BitFitConfig:
        return BitFitConfig(lr=cls.suggest_lr(trial),
                            norm_params=trial.suggest_categorical("norm_params", [False, True]))

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset()

    def block_tensors(self, block: Block) -> tuple[nn.Parameter, ...]:
        chosen = {id(p) for p in block.biases}
        if self.config.norm_params:
            chosen |= {id(p) for p in block.norm_params}
        return tuple(p for p in block.params if id(p) in chosen)
