"""What a training run trains on: the model on images, or its trained part on outputs
computed once per trial (the backbone's features, or a frozen prefix's activations)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from benchmarks.engine.augment import Augment
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.features import can_cache, compute_features, compute_outputs
from benchmarks.engine.precision import to_channels_last
from benchmarks.engine.prefix import PrefixSplit, cache_mb, split_model, verify_split
from benchmarks.engine.tensors import Prepare, TensorData


@dataclass(frozen=True)
class Route:
    """What the loop runs on each batch: the model on images, or its trained part on stored
    outputs (features or frozen-prefix activations) of those images."""

    net: nn.Module
    x_train: torch.Tensor
    x_val: torch.Tensor
    prepare: Prepare
    cached: bool = False
    cached_blocks: int = 0


def choose_route(model, strategy, groups, data: TensorData, cfg: TrainConfig,
                 augment: Augment, device) -> Route:
    """Cached features, else cached frozen-prefix activations, else the images.

    Nothing is cached when an augmentation touches the images. On the uncached path, frozen
    parameters have ``requires_grad`` off, so autograd records nothing for the input-side
    frozen blocks either: no graph and no backward through them.
    """
    prepare = data.normalise
    if cfg.channels_last is True:
        def prepare(x: torch.Tensor) -> torch.Tensor:
            return to_channels_last(data.normalise(x))
    if not cfg.cache_features or augment.touches_images:
        return Route(model, data.x_train, data.x_val, prepare)
    if can_cache(model, strategy, groups, cfg.max_epochs):
        feats = compute_features(model, data, device)
        return Route(model.get_classifier(), feats.x_train, feats.x_val, _identity, True,
                      groups.n_blocks)
    split = _cacheable_prefix(model, strategy, groups, data, cfg, prepare, device)
    if split is None:
        return Route(model, data.x_train, data.x_val, prepare)
    acts = compute_outputs(split.prefix, split.prefix, data, prepare, device)
    return Route(split.rest, acts.x_train, acts.x_val, _identity, False, split.n_blocks)


def _cacheable_prefix(model, strategy, groups, data: TensorData, cfg: TrainConfig,
                      prepare: Prepare, device) -> PrefixSplit | None:
    """The frozen-prefix split, if verified on a few training images and under the limit."""
    split = split_model(model, strategy, groups, cfg.max_epochs)
    probe = prepare(data.x_train[:8].to(device))
    if split is None or len(probe) < 2:
        return None
    outputs = verify_split(split, model, strategy, groups, probe)
    if outputs is None:
        return None
    n_images = len(data.y_train) + len(data.y_val)
    return split if cache_mb(outputs, n_images) <= cfg.cache_limit_mb else None


def _identity(x: torch.Tensor) -> torch.Tensor:
    """Stored outputs are model input as they are."""
    return x
