"""Cached backbone features: when nothing before the head can change, compute it once."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from timm.layers import DropPath
from torch import nn

from benchmarks.tensors import TensorData
from strategies import BNPolicy, LayerGroups, Strategy


@dataclass(frozen=True)
class Features:
    """Pre-logit features of the training and validation images of one trial."""

    x_train: torch.Tensor
    x_val: torch.Tensor


def can_cache(model: nn.Module, strategy: Strategy, groups: LayerGroups, max_epochs: int) -> bool:
    """Whether the backbone's output is a fixed function of the image for the whole run.

    True when every block stays frozen in every epoch, frozen BatchNorm layers keep their
    statistics, and nothing before the classifier is stochastic (dropout, drop-path).
    The caller must also check that no augmentation touches the images
    (``Augment.touches_images``); only then are the features constant.
    """
    n = groups.n_blocks
    all_frozen = frozenset(range(n))
    if strategy.frozen_blocks(n, 0) != all_frozen:
        return False
    if strategy.frozen_blocks(n, max_epochs - 1) != all_frozen:
        return False
    if strategy.config.bn_frozen is BNPolicy.TRAIN:
        return False
    return not _stochastic(model)


def _stochastic(model: nn.Module) -> bool:
    """Any dropout or drop-path with a positive rate outside the classifier itself."""
    if getattr(model, "drop_rate", 0.0):  # timm heads apply functional dropout before fc
        return True
    head = model.get_classifier()
    for module in model.modules():
        if module is head:
            continue
        if isinstance(module, nn.modules.dropout._DropoutNd) and module.p > 0:
            return True
        if isinstance(module, DropPath) and module.drop_prob > 0:
            return True
    return False


@torch.no_grad()
def compute_features(model: nn.Module, data: TensorData, device: torch.device) -> Features:
    """Pre-logit features (timm ``forward_head(pre_logits=True)``) in eval mode."""
    model.eval()

    def run(x: torch.Tensor) -> torch.Tensor:
        out = []
        for start in range(0, len(x), 512):
            batch = data.normalise(x[start : start + 512].to(device))
            out.append(model.forward_head(model.forward_features(batch), pre_logits=True))
        return torch.cat(out)

    return Features(run(data.x_train), run(data.x_val))
