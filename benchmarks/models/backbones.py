"""Building backbones by name: timm models (bare or ``timm:``) and torchvision ones (``tv:``)."""

from __future__ import annotations

from pathlib import Path

import timm
from timm.models import get_pretrained_cfg
from torch import nn

from benchmarks.messages import did_you_mean
from benchmarks.models.checkpoints import load_checkpoint
from benchmarks.models.tv_backbones import check_tv_name, create_tv_backbone

__all__ = ["check_backbone_name", "create_backbone", "load_checkpoint", "normalisation",
           "split_name"]


def split_name(name: str) -> tuple[str, str]:
    """``("tv", "resnet50")`` for ``tv:resnet50``; ``("timm", name)`` for the rest."""
    if name.startswith("tv:"):
        return "tv", name[3:]
    return "timm", name.removeprefix("timm:")


def check_backbone_name(name: str) -> None:
    """Raise a clear ValueError unless ``name`` can be built (tag included, for timm)."""
    source, model = split_name(name)
    if source == "tv":
        check_tv_name(model)
        return
    if not timm.is_model(model):
        hint = did_you_mean(model, timm.list_models())
        raise ValueError(
            f"backbone '{name}': it must be a timm model name, but timm has no such model."
            f"{hint} (`ftbench list backbones '*resnet*'` lists them.)"
        )
    if "." in model:
        try:
            get_pretrained_cfg(model)
        except RuntimeError:
            arch = model.split(".")[0]
            tags = [m.split(".", 1)[1] for m in timm.list_models(arch, pretrained=True)]
            raise ValueError(
                f"backbone '{name}': its pretrained tag must be one of timm's for {arch}, but "
                f"it is not. Tags: {', '.join(tags[:8]) or 'none'}."
            ) from None


def create_backbone(name: str, num_classes: int, checkpoint: Path | None = None) -> nn.Module:
    """A model with a fresh ``num_classes`` head, optionally loaded from a local checkpoint.

    Args:
        name: a timm name (``resnet50``, ``timm:resnet50.a1_in1k``) or ``tv:<name>``.
        num_classes: size of the new classification head (timm's ``num_classes``, or the
            torchvision adapter's ``reset_classifier``).
        checkpoint: a local state-dict file (see ``load_checkpoint``); None keeps random
            weights. Hub weights are fetched once and saved as such a file
            (:mod:`benchmarks.models.weights`). A head of the same size is loaded too: a new task's
            model takes :func:`fresh_head` after this.
    """
    check_backbone_name(name)
    source, model_name = split_name(name)
    if source == "tv":
        model = create_tv_backbone(model_name, num_classes)
    else:
        model = timm.create_model(model_name, pretrained=False, num_classes=num_classes)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    return model


def fresh_head(model: nn.Module) -> None:
    """Give the classifier (``get_classifier()``) PyTorch's default initialisation, as the
    tutorials' ``nn.Linear(in_features, n_classes)``, whatever the architecture's own scheme.

    A pretrained backbone's head must be new: a checkpoint's head of the same size (a
    5-class source task, a 5-class target) is not the target's, and timm's EfficientNet
    initialisation draws a ``k``-class head from U(+-1/sqrt(k)), which for 5 classes gives
    initial logits of std ~16 and a loss of ~20 on Lite0's features (measured): a frozen
    backbone's head then barely leaves chance in 10 epochs at the guideline's LR. A model
    trained from scratch keeps the architecture's own initialisation everywhere.
    """
    heads = model.get_classifier()
    for head in heads if isinstance(heads, (tuple, list)) else (heads,):
        for module in head.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()


def input_size(model: nn.Module) -> int:
    """The square input side the model's pretrained configuration names."""
    return int(model.pretrained_cfg.get("input_size", (3, 224, 224))[-1])


def normalisation(model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The mean and std the model expects, from its pretrained configuration."""
    cfg = model.pretrained_cfg
    return tuple(cfg.get("mean", (0.5, 0.5, 0.5))), tuple(cfg.get("std", (0.5, 0.5, 0.5)))
