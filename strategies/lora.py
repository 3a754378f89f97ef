"""LoRA: low-rank adapters (peft's) on the backbone's linear and non-grouped convolution
layers; the base weights stay frozen and only the adapters and the new head train
(Hu et al., 2022)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from strategies.base import BNPolicy, Strategy, StrategyConfig, StrategyContext
from strategies.groups import Block
from strategies.registry import register_strategy

RANKS = (2, 4, 8, 16, 32)
"""Searched adapter ranks."""
ALPHA_RANGE = (1.0, 64.0)
"""Search range of lora_alpha (the update is scaled by alpha / rank), log scale."""


@dataclass(frozen=True)
class LoraConfig(StrategyConfig):
    """LoRA: adapter ``rank`` and ``alpha``; BatchNorm statistics stay the pretrained ones by
    default, so that the base model is exactly the starting one."""

    rank: int = 8
    alpha: float = 16.0
    bn_trainable: BNPolicy = BNPolicy.FROZEN_STATS

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (isinstance(self.rank, int) and self.rank >= 1):
            raise ValueError(f"config field 'rank': rank >= 1 must hold, but got {self.rank}.")
        if not self.alpha > 0:
            raise ValueError(f"config field 'alpha': alpha > 0 must hold, but got {self.alpha}.")


def lora_targets(model: nn.Module) -> list[str]:
    """Names of the modules LoRA adapts: every ``nn.Linear`` and every non-grouped
    ``nn.Conv2d`` of the backbone, found by type. Left out: the head, grouped (depthwise)
    convolutions, and subclasses of Conv2d that pad at run time (timm's ``Conv2dSame``),
    whose adapter could not match their output size."""
    head = {id(m) for m in model.get_classifier().modules()}
    return [name for name, m in model.named_modules() if id(m) not in head and (
        isinstance(m, nn.Linear) or (type(m) is nn.Conv2d and m.groups == 1))]


@register_strategy
class Lora(Strategy):
    """Adapters in every targeted layer train; every pretrained weight stays as it was."""

    name = "lora"
    summary = "low-rank adapters (peft) on linear and conv layers, base frozen (Hu et al.)"
    config_cls = LoraConfig
    searched = ("lr", "rank", "alpha")

    def __init__(self, config: StrategyConfig | None = None) -> None:
        super().__init__(config)
        self._adapters: set[int] = set()

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> LoraConfig:
        # the common recipe: rank 8, alpha 16; adapters start at zero, so a head-like LR
        return LoraConfig(lr=1e-3)

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> LoraConfig:
        return LoraConfig(lr=cls.suggest_lr(trial),
                          rank=trial.suggest_categorical("rank", list(RANKS)),
                          alpha=trial.suggest_float("alpha", *ALPHA_RANGE, log=True))

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset()

    def prepare_model(self, model: nn.Module) -> bool:
        """Inject peft's LoRA layers in place (once); remember which tensors are adapters.

        Raises:
            ValueError: the backbone has no layer LoRA can adapt.
        """
        from peft import LoraConfig as PeftLoraConfig
        from peft import inject_adapter_in_model
        from peft.tuners.lora import LoraLayer

        if not any(isinstance(m, LoraLayer) for m in model.modules()):
            targets = lora_targets(model)
            if not targets:
                raise ValueError(f"strategy '{self.name}': a linear or non-grouped conv layer "
                                 f"must exist in the backbone, but {type(model).__name__} has "
                                 "none. Use another strategy for this backbone.")
            peft_config = PeftLoraConfig(r=self.config.rank, lora_alpha=self.config.alpha,
                                         target_modules=targets, lora_dropout=0.0, bias="none")
            inject_adapter_in_model(peft_config, model)
        self._adapters = {id(p) for m in model.modules() if isinstance(m, LoraLayer)
                          for part in (m.lora_A, m.lora_B) for p in part.parameters()}
        return True

    def block_tensors(self, block: Block) -> tuple[nn.Parameter, ...]:
        return tuple(p for p in block.params if id(p) in self._adapters)
