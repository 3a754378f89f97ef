"""Torchvision classifiers behind the timm interface ftbench's strategies need.

With :mod:`benchmarks.models.tv_families`, the one place that knows torchvision model layouts: each
family there declares how its models split into stem -> blocks -> head, and
:class:`TorchvisionBackbone` follows it, so ``strategies.layer_groups`` splits a torchvision
model as it splits a timm model.

Supported: resnet/resnext/wide_resnet, efficientnet (v1, v2), mobilenet_v2, mobilenet_v3,
convnext, vit, regnet, densenet, swin (v1, v2), shufflenet_v2. Skipped, because they do not fit
stem -> blocks -> one Linear cleanly: alexnet and vgg (flat conv list without stages; two
hidden Linear layers with dropout hold most weights), squeezenet (the classifier is a conv),
googlenet and inception_v3 (auxiliary heads, tuple outputs in train mode, input transform),
mnasnet (its stem is spread over eight flat ``layers`` indices), maxvit (tanh MLP head,
fixed-size window partitions).
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision
from torch import nn
from torchvision.models import WeightsEnum, get_model, get_model_weights, list_models
from torchvision.ops import StochasticDepth

from benchmarks.messages import did_you_mean
from benchmarks.models.tv_families import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TV_FAMILIES,
    TvFamily,
    get_family,
)


class TorchvisionBackbone(nn.Module):
    """One torchvision classifier (``self.model``) with the timm methods ftbench uses.

    ``forward`` computes exactly what the wrapped model's own ``forward`` computes, split into
    ``forward_features`` and ``forward_head`` as in timm.
    """

    def __init__(self, model: nn.Module, family: TvFamily | str,
                 weights: WeightsEnum | None = None, name: str | None = None) -> None:
        """Wrap ``model``; ``weights`` set pretrained_cfg (else 224 px, ImageNet mean/std).

        Raises:
            ValueError: if the family is unknown.
            TypeError: if the family's head path is not an ``nn.Linear`` in ``model``.
        """
        super().__init__()
        self.model = model
        self.family = family if isinstance(family, TvFamily) else get_family(family)
        self.get_classifier()  # fail early when the declared head does not exist
        self.pretrained_cfg = _pretrained_cfg(model, self.family, weights, name)

    def _head_parent(self) -> tuple[nn.Module, str]:
        """The module holding the head, and the head's name in it."""
        parent, _, leaf = self.family.head.rpartition(".")
        return (self.model.get_submodule(parent) if parent else self.model), leaf

    def get_classifier(self) -> nn.Linear:
        """The final ``nn.Linear`` (timm's classifier)."""
        parent, leaf = self._head_parent()
        head = getattr(parent, leaf, None)
        if not isinstance(head, nn.Linear):
            raise TypeError(f"torchvision head '{self.family.head}': it must be an nn.Linear in "
                             f"a {self.family.name} model, but got {type(head).__name__}. Wrap "
                             "the model with its own family.")
        return head

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the final Linear by a fresh one with ``num_classes`` outputs."""
        _check_num_classes(num_classes)
        old = self.get_classifier()
        new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None,
                        device=old.weight.device, dtype=old.weight.dtype)
        setattr(*self._head_parent(), new)

    def group_matcher(self, coarse: bool = True) -> dict:
        """timm-style regexes over this wrapper's parameter names (one granularity only)."""
        return {"stem": _prefixed(self.family.stem),
                "blocks": [(_prefixed(rx), suffix) for rx, suffix in self.family.blocks]}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The wrapped model's forward up to its last feature map (or token sequence)."""
        return self.family.features(self.model, x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pooling and whatever precedes the final Linear; then the Linear unless pre_logits."""
        x = self.family.pool(self.model, x)
        parent, leaf = self._head_parent()
        if isinstance(parent, nn.Sequential):
            for key, module in parent.named_children():
                if key == leaf:
                    break
                x = module(x)
        return x if pre_logits else self.get_classifier()(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, identical to the wrapped model's own forward."""
        return self.forward_head(self.forward_features(x))

    @property
    def num_classes(self) -> int:
        """Outputs of the final Linear."""
        return self.get_classifier().out_features

    @property
    def num_features(self) -> int:
        """Width of the pre-logits (the final Linear's input)."""
        return self.get_classifier().in_features

    @property
    def default_cfg(self) -> dict:
        """timm's older name for :attr:`pretrained_cfg`."""
        return self.pretrained_cfg

    @property
    def drop_rate(self) -> float:
        """Largest rate of any stochastic layer (dropout, stochastic depth, attention dropout).

        All of them act before the final Linear, so pre-logits computed once in eval mode
        differ from training through them: ftbench must not cache features when this is > 0.
        """
        return max((_rate(m) for m in self.model.modules()), default=0.0)

    def adapt_state_dict(self, state: dict) -> dict:
        """A plain torchvision state dict with this wrapper's ``model.`` prefix added."""
        return {k if k.startswith("model.") else f"model.{k}": v for k, v in state.items()}


def _check_num_classes(num_classes: int) -> None:
    """Raise a clear ValueError unless ``num_classes >= 1``."""
    if num_classes < 1:
        raise ValueError(f"num_classes: num_classes >= 1 must hold, but got {num_classes}. "
                         "Pass the task's number of classes.")


def _prefixed(regex: str) -> str:
    """A torchvision-name regex anchored under the wrapper's ``model.`` prefix."""
    return rf"^model\.(?:{regex})"


def _rate(module: nn.Module) -> float:
    """The stochastic rate a torchvision module applies in training (0.0 when none)."""
    if isinstance(module, (nn.modules.dropout._DropoutNd, StochasticDepth)):
        return float(module.p)
    rates = [getattr(module, a, 0.0) for a in ("drop_rate", "dropout", "attention_dropout")]
    return max([float(r) for r in rates if isinstance(r, (int, float))], default=0.0)


def _pretrained_cfg(model: nn.Module, family: TvFamily, weights: WeightsEnum | None,
                    name: str | None) -> dict:
    """timm-style input configuration from the weights' ``transforms()`` (224/ImageNet else)."""
    cfg = {"architecture": name, "tag": None, "input_size": (3, 224, 224),
           "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "interpolation": "bilinear",
           "crop_pct": 0.875, "classifier": f"model.{family.head}"}
    if weights is not None:
        t = weights.transforms()
        crop, resize = t.crop_size[0], t.resize_size[0]
        cfg.update(tag=weights.name, input_size=(3, crop, crop), mean=tuple(t.mean),
                   std=tuple(t.std), interpolation=t.interpolation.value, crop_pct=crop / resize)
    size = getattr(model, "image_size", None)  # a ViT runs only at the size it was built for
    if isinstance(size, int):
        cfg["input_size"] = (3, size, size)
    return cfg


def _all_names() -> list[str]:
    """Every torchvision image-classification model name."""
    return list_models(module=torchvision.models)


def _family_of(name: str) -> TvFamily | None:
    """The declared family whose patterns match ``name``, if any."""
    for family in TV_FAMILIES:
        if any(fnmatch.fnmatchcase(name, p) for p in family.patterns):
            return family
    return None


def list_tv_backbones(pattern: str = "*") -> list[str]:
    """Supported torchvision model names matching a shell-style wildcard, sorted."""
    return sorted(n for n in _all_names()
                  if _family_of(n) is not None and fnmatch.fnmatchcase(n, pattern))


def check_tv_name(name: str) -> None:
    """Raise a clear ValueError unless ``name`` is a supported torchvision model."""
    _supported_family(name)


def _supported_family(name: str) -> TvFamily:
    """The family of a supported name, or a ValueError that says what to use instead."""
    if name not in _all_names():
        hint = did_you_mean(name, list_tv_backbones())
        raise ValueError(f"torchvision backbone '{name}': it must be a torchvision "
                         f"classification model, but there is none by that name.{hint} "
                         "(`ftbench list backbones 'tv:*'` lists them.)")
    family = _family_of(name)
    if family is None:
        raise ValueError(f"torchvision backbone '{name}': its family must be one of "
                         f"{', '.join(f.name for f in TV_FAMILIES)}, but it is not. Pick a "
                         "model from `ftbench list backbones 'tv:*'`, or use the timm version.")
    return family


def tv_weights(name: str, weights: str | WeightsEnum | None) -> WeightsEnum | None:
    """The weights enum member ``weights`` names (``"DEFAULT"``, ``"IMAGENET1K_V2"``, ...)."""
    if weights is None or isinstance(weights, WeightsEnum):
        return weights
    enum = get_model_weights(name)
    key = weights.removeprefix(f"{enum.__name__}.")
    if key not in enum.__members__:
        raise ValueError(f"weights '{weights}': they must be one of "
                         f"{', '.join(enum.__members__)} for {name}, but they are not. "
                         "Pass one of those names, or None for random weights.")
    return enum[key]


def create_tv_backbone(name: str, num_classes: int, weights: str | WeightsEnum | None = None,
                       **kwargs) -> TorchvisionBackbone:
    """A torchvision model with a fresh ``num_classes`` head behind the timm interface.

    Args:
        name: a name from :func:`list_tv_backbones`.
        num_classes: outputs of the new final Linear.
        weights: None for random weights, or a weights enum name such as ``"DEFAULT"``
            (torchvision downloads the file unless :func:`tv_weights_file` is cached).
        **kwargs: passed to torchvision's builder (e.g. ``image_size`` for a random ViT).

    Raises:
        ValueError: for an unknown or unsupported name, unknown weights or num_classes < 1.
    """
    family = _supported_family(name)
    _check_num_classes(num_classes)
    enum = tv_weights(name, weights)
    model = get_model(name, weights=enum, **kwargs)
    cfg_weights = enum if enum is not None else get_model_weights(name).DEFAULT
    backbone = TorchvisionBackbone(model, family, cfg_weights, name=name)
    backbone.reset_classifier(num_classes)
    return backbone


def tv_weights_file(name: str, weights: str | WeightsEnum | None) -> Path | None:
    """Where torch hub caches the file of ``weights`` (None for random weights); no network."""
    _supported_family(name)
    enum = tv_weights(name, weights)
    if enum is None:
        return None
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(enum.url).path)
