"""Building timm backbones, optionally from a local checkpoint (the one place that knows timm)."""

from __future__ import annotations

import difflib
from pathlib import Path

import timm
from torch import nn

from benchmarks.checkpoints import load_checkpoint

__all__ = ["check_backbone_name", "create_backbone", "load_checkpoint", "normalisation"]


def check_backbone_name(name: str) -> None:
    """Raise a clear ValueError unless timm can build ``name``."""
    if timm.is_model(name):
        return
    close = difflib.get_close_matches(name, timm.list_models(), n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ValueError(
        f"backbone '{name}': it must be a timm model name, but timm has no such model.{hint} "
        "(`python -c \"import timm; print(timm.list_models('*resnet*'))\"` lists them.)"
    )


def create_backbone(name: str, num_classes: int, checkpoint: Path | None = None) -> nn.Module:
    """A timm model with a fresh ``num_classes`` head, optionally loaded from a checkpoint.

    Args:
        name: timm model name.
        num_classes: size of the new classification head.
        checkpoint: a local state-dict file (see ``load_checkpoint``); None keeps random
            weights.
    """
    check_backbone_name(name)
    model = timm.create_model(name, pretrained=False, num_classes=num_classes)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    return model


def normalisation(model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The mean and std the model expects, from its pretrained configuration."""
    cfg = model.pretrained_cfg
    return tuple(cfg.get("mean", (0.5, 0.5, 0.5))), tuple(cfg.get("std", (0.5, 0.5, 0.5)))
