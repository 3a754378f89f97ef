"""L2-SP: full fine-tuning pulled towards the pretrained weights (Li et al., 2018):
alpha/2 ||w - w0||^2 over the backbone's starting weights w0, beta/2 ||w||^2 over the new
head, added to the training loss in place of weight decay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from strategies.base import Strategy, StrategyConfig, StrategyContext
from strategies.groups import LayerGroups
from strategies.registry import register_strategy

ALPHA_RANGE = (1e-3, 1.0)
"""Search range of alpha, log scale, around the paper's 0.1."""
BETA_RANGE = (1e-4, 1e-1)
"""Search range of beta, log scale, around the paper's 0.01."""


@dataclass(frozen=True)
class L2SPConfig(StrategyConfig):
    """L2-SP: ``alpha`` weighs the pull towards the starting backbone, ``beta`` the new head's
    L2; no decoupled weight decay by default (the penalty is the regulariser)."""

    alpha: float = 0.1
    beta: float = 0.01
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("alpha", "beta"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"config field '{name}': {name} >= 0 must hold, but got "
                                 f"{getattr(self, name)}.")


@register_strategy
class L2SP(Strategy):
    """Everything trains at one LR; the loss holds the backbone near where it started."""

    name = "l2sp"
    summary = "full fine-tuning + alpha/2 ||w - w0||^2 to the pretrained weights (Li et al.)"
    config_cls = L2SPConfig
    searched = ("lr", "alpha", "beta")

    def __init__(self, config: StrategyConfig | None = None) -> None:
        super().__init__(config)
        self._start: dict[int, torch.Tensor] = {}

    @classmethod
    def default_config(cls, ctx: StrategyContext) -> L2SPConfig:
        # full_finetune's default LR, with the paper's alpha and beta
        return L2SPConfig(lr=3e-5)

    @classmethod
    def suggest(cls, trial: Any, ctx: StrategyContext) -> L2SPConfig:
        return L2SPConfig(lr=cls.suggest_lr(trial),
                          alpha=trial.suggest_float("alpha", *ALPHA_RANGE, log=True),
                          beta=trial.suggest_float("beta", *BETA_RANGE, log=True))

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset()

    def prepare_model(self, model: nn.Module) -> bool:
        """Record the starting weights w0 (the pretrained backbone)."""
        self._start = {id(p): p.detach().clone() for p in model.parameters()}
        return False

    def penalty(self, groups: LayerGroups) -> torch.Tensor | None:
        backbone = groups.backbone_params()
        if not backbone and not groups.head:
            return None
        start = [self._anchor(p) for p in backbone]
        pull = sum(((p - w0) ** 2).sum() for p, w0 in zip(backbone, start))
        head = sum((p**2).sum() for p in groups.head)
        return 0.5 * self.config.alpha * pull + 0.5 * self.config.beta * head

    def _anchor(self, param: nn.Parameter) -> torch.Tensor:
        """w0 of ``param``, on its device (moved once)."""
        w0 = self._start.get(id(param))
        if w0 is None:
            raise RuntimeError(f"strategy '{self.name}': prepare_model must run before "
                               "training, but the starting weights were never recorded.")
        if w0.device != param.device:
            w0 = self._start[id(param)] = w0.to(param.device)
        return w0
