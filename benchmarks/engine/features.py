"""Cached backbone features: when nothing before the head can change, compute it once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from timm.layers import DropPath
from torch import nn

from benchmarks.engine.tensors import Prepare, TensorData
from strategies import BNPolicy, LayerGroups, Strategy


@dataclass(frozen=True)
class Features:
    """Stored outputs (pre-logit features, or a frozen prefix's activations) of one trial."""

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
    return has_random_layers(model, skip=model.get_classifier())


def has_random_layers(module: nn.Module, skip: nn.Module | None = None) -> bool:
    """Any dropout or drop-path with a positive rate in ``module`` (outside ``skip``)."""
    for m in module.modules():
        if m is skip:
            continue
        if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0:
            return True
        if isinstance(m, DropPath) and m.drop_prob > 0:
            return True
    return False


def compute_features(model: nn.Module, data: TensorData, device: torch.device) -> Features:
    """Pre-logit features (timm ``forward_head(pre_logits=True)``) in eval mode."""

    def backbone(batch: torch.Tensor) -> torch.Tensor:
        return model.forward_head(model.forward_features(batch), pre_logits=True)

    return compute_outputs(model, backbone, data, data.normalise, device)


@torch.no_grad()
def compute_outputs(module: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor],
                    data: TensorData, prepare: Prepare, device: torch.device) -> Features:
    """``fn`` of the prepared training and validation images, in batches of 512.

    ``module`` (the model, or the frozen prefix ``fn`` runs) is put in eval mode first; no
    autograd graph is recorded, so the outputs have no ``grad_fn``.
    """
    module.eval()

    def run(x: torch.Tensor) -> torch.Tensor:
        out = [fn(prepare(x[start : start + 512].to(device))) for start in range(0, len(x), 512)]
        return torch.cat(out)

    return Features(run(data.x_train), run(data.x_val))
