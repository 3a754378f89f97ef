"""The torchvision families ftbench supports, each declared as data: which model names it
covers, the forward up to the feature map, the pooling up to the head's container, the dotted
path of the final ``nn.Linear`` and timm-style group-matcher regexes (stem -> blocks; a final
norm or neck joins the last block, as in timm). :mod:`benchmarks.models.tv_backbones` wraps a model
of a family behind the timm interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.messages import did_you_mean

Stage = Callable[[nn.Module, torch.Tensor], torch.Tensor]
"""A piece of a torchvision model's forward: ``(torchvision_model, x) -> y``."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_PREV = (99999,)  # timm's MATCH_PREV_GROUP: a final norm/neck joins the last block


@dataclass(frozen=True)
class TvFamily:
    """How one family of torchvision classifiers splits into stem -> blocks -> head.

    Attributes:
        name: the family's label.
        patterns: fnmatch patterns over ``torchvision.models.list_models()`` names.
        head: dotted path of the final ``nn.Linear`` inside the torchvision model.
        stem: regex matched at the start of a torchvision parameter name.
        blocks: ``(regex, suffix)`` pairs in timm's group-matcher format: the regex's numeric
            groups, or else the suffix, give the block's place in the order (``(99999,)``
            joins the previous block).
        features: the forward up to the last feature map (or token sequence).
        pool: feature map -> input of the head's container (modules of a ``nn.Sequential``
            container that come before the head are applied after it, as pre-logits).
    """

    name: str
    patterns: tuple[str, ...]
    head: str
    stem: str
    blocks: tuple[tuple[str, tuple[int, ...] | None], ...]
    features: Stage
    pool: Stage


def _children(model: nn.Module, x: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    """Apply the named child modules in order."""
    for name in names:
        x = getattr(model, name)(x)
    return x


def _vit_tokens(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Patch embedding, class token and encoder, as ``VisionTransformer.forward`` does."""
    x = model._process_input(x)
    token = model.class_token.expand(x.shape[0], -1, -1)
    return model.encoder(torch.cat([token, x], dim=1))


def _avgpool_flatten(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's own ``avgpool`` module, flattened."""
    return torch.flatten(model.avgpool(x), 1)


def _adaptive_pool_flatten(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Functional global average pooling, flattened (MobileNetV2)."""
    return torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)


def _relu_pool_flatten(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """ReLU, global average pooling, flattened (DenseNet)."""
    return torch.flatten(F.adaptive_avg_pool2d(F.relu(x), (1, 1)), 1)


def _avgpool(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's own ``avgpool`` module, not flattened (ConvNeXt flattens in its classifier)."""
    return model.avgpool(x)


def _class_token(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The class token's output (ViT)."""
    return x[:, 0]


def _mean_hw(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Mean over height and width (ShuffleNetV2)."""
    return x.mean([2, 3])


_FEATURES = partial(_children, names=("features",))
_STAGES = (  # features = [stem, stage, down, stage, down, stage, down, stage]: down joins next
    (r"features\.1\.", (1,)), (r"features\.[23]\.", (2,)), (r"features\.[45]\.", (3,)),
    (r"features\.[67]\.", (4,)),
)  # fmt: skip
_RESNET_TRUNK = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")

TV_FAMILIES: tuple[TvFamily, ...] = (  # name, patterns, head, stem, blocks, features, pool
    TvFamily("resnet", ("resnet*", "resnext*", "wide_resnet*"), "fc", r"conv1\.|bn1\.",
             ((r"layer(\d+)\.", None),), partial(_children, names=_RESNET_TRUNK),
             _avgpool_flatten),
    TvFamily("efficientnet", ("efficientnet_b*", "efficientnet_v2_*"), "classifier.1",
             r"features\.0\.", ((r"features\.(\d+)\.", None),), _FEATURES, _avgpool_flatten),
    TvFamily("mobilenet_v2", ("mobilenet_v2",), "classifier.1", r"features\.0\.",
             ((r"features\.(\d+)\.", None),), _FEATURES, _adaptive_pool_flatten),
    TvFamily("mobilenet_v3", ("mobilenet_v3_*",), "classifier.3", r"features\.0\.",
             ((r"features\.(\d+)\.", None), (r"classifier\.0\.", _PREV)), _FEATURES,
             _avgpool_flatten),
    TvFamily("convnext", ("convnext_*",), "classifier.2", r"features\.0\.",
             (*_STAGES, (r"classifier\.0\.", _PREV)), _FEATURES, _avgpool),
    TvFamily("vit", ("vit_*",), "heads.head", r"conv_proj\.|class_token$|encoder\.pos_embedding$",
             ((r"encoder\.layers\.encoder_layer_(\d+)\.", None), (r"encoder\.ln\.", _PREV),
              (r"heads\.pre_logits\.", (100000,))), _vit_tokens, _class_token),
    TvFamily("regnet", ("regnet_*",), "fc", r"stem\.", ((r"trunk_output\.block(\d+)\.", None),),
             partial(_children, names=("stem", "trunk_output")), _avgpool_flatten),
    TvFamily("densenet", ("densenet*",), "classifier", r"features\.(?:conv0|norm0)\.",
             ((r"features\.(?:denseblock|transition)(\d+)\.", None),
              (r"features\.norm5\.", _PREV)), _FEATURES, _relu_pool_flatten),
    TvFamily("swin", ("swin_*",), "head", r"features\.0\.", (*_STAGES, (r"norm\.", _PREV)),
             partial(_children, names=("features", "norm", "permute")), _avgpool_flatten),
    TvFamily("shufflenet_v2", ("shufflenet_v2_*",), "fc", r"conv1\.",
             ((r"stage(\d+)\.", None), (r"conv5\.", _PREV)),
             partial(_children, names=("conv1", "maxpool", "stage2", "stage3", "stage4",
                                       "conv5")), _mean_hw),
)  # fmt: skip


def get_family(name: str) -> TvFamily:
    """The family called ``name``, or a ValueError listing the families."""
    for family in TV_FAMILIES:
        if family.name == name:
            return family
    valid = [f.name for f in TV_FAMILIES]
    hint = did_you_mean(name, valid)
    raise ValueError(f"torchvision family '{name}': it must be one of {', '.join(valid)}, but "
                     f"it is not declared.{hint}")
