"""Ordered layer groups (stem -> blocks -> head) of a timm model, from its own group matcher."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from timm.models import group_parameters
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

NORM_TYPES = (_BatchNorm, nn.LayerNorm, nn.GroupNorm)
"""Normalisation layers (timm's BatchNormAct2d and LayerNorm2d subclass these)."""


@dataclass(frozen=True)
class Block:
    """One ordered group of the backbone: its parameters and its BatchNorm modules.

    ``biases`` are the parameters that some module of the block holds as its ``bias``
    (convolutions, linear and normalisation layers); ``norm_params`` the affine parameters of
    its normalisation layers (BatchNorm, LayerNorm, GroupNorm). Both are found by module,
    for strategies that train only some tensors of a block (BitFit).
    """

    index: int
    name: str
    params: tuple[nn.Parameter, ...]
    norms: tuple[_BatchNorm, ...]
    biases: tuple[nn.Parameter, ...] = ()
    norm_params: tuple[nn.Parameter, ...] = ()

    @property
    def numel(self) -> int:
        """Number of scalar parameters in the block."""
        return sum(p.numel() for p in self.params)


@dataclass(frozen=True)
class LayerGroups:
    """A model split into ordered backbone blocks (input side first) and its classifier head."""

    blocks: tuple[Block, ...]
    head: tuple[nn.Parameter, ...]

    @property
    def n_blocks(self) -> int:
        """Number of backbone blocks (the stem counts as block 0)."""
        return len(self.blocks)

    def backbone_params(self) -> list[nn.Parameter]:
        """All non-head parameters, input side first."""
        return [p for b in self.blocks for p in b.params]


def layer_groups(model: nn.Module) -> LayerGroups:
    """Split a timm model into ordered blocks using ``model.group_matcher(coarse=True)``.

    The head is the module returned by ``model.get_classifier()`` (by identity, not by name);
    every other parameter belongs to the block timm's matcher assigns it to.

    Raises:
        TypeError: if the model has no ``group_matcher`` or ``get_classifier``.
    """
    for attr in ("group_matcher", "get_classifier"):
        if not hasattr(model, attr):
            raise TypeError(
                f"model '{type(model).__name__}': a timm-style '{attr}()' method must exist, "
                "but it is missing. Build the backbone with timm.create_model()."
            )
    head_ids = {id(p) for p in model.get_classifier().parameters()}
    group_of = group_parameters(model, model.group_matcher(coarse=True), reverse=True)
    named = [(n, p) for n, p in model.named_parameters() if id(p) not in head_ids]
    order = sorted({group_of[n] for n, _ in named})
    norms = _norms_by_group(model, group_of, head_ids)
    biases, norm_params = _kinds(model, head_ids)
    shared = _shared_prefix([n for n, _ in model.named_parameters()])
    labels = _block_names([[n[len(shared):] for n, _ in named if group_of[n] == gid]
                           for gid in order])
    blocks = []
    for ordinal, gid in enumerate(order):
        params = tuple(p for n, p in named if group_of[n] == gid)
        blocks.append(
            Block(
                index=ordinal,
                name=labels[ordinal],
                params=params,
                norms=tuple(norms.get(gid, ())),
                biases=tuple(p for p in params if id(p) in biases),
                norm_params=tuple(p for p in params if id(p) in norm_params),
            )
        )
    return LayerGroups(blocks=tuple(blocks), head=tuple(model.get_classifier().parameters()))


def _norms_by_group(
    model: nn.Module, group_of: dict[str, int], head_ids: set[int]
) -> dict[int, list[_BatchNorm]]:
    """BatchNorm modules keyed by the group of their own affine parameters."""
    out: dict[int, list[_BatchNorm]] = {}
    for name, module in model.named_modules():
        own = [f"{name}.{pn}" for pn, _ in module.named_parameters(recurse=False)]
        if not isinstance(module, _BatchNorm) or not own:
            continue
        if any(id(p) in head_ids for p in module.parameters()):
            continue
        out.setdefault(group_of[own[0]], []).append(module)
    return out


def _kinds(model: nn.Module, head_ids: set[int]) -> tuple[set[int], set[int]]:
    """Ids of the backbone's bias parameters and of its normalisation layers' parameters."""
    biases, norm_params = set(), set()
    for module in model.modules():
        bias = getattr(module, "bias", None)
        if isinstance(bias, nn.Parameter) and id(bias) not in head_ids:
            biases.add(id(bias))
        if isinstance(module, NORM_TYPES):
            norm_params.update(id(p) for p in module.parameters(recurse=False)
                               if id(p) not in head_ids)
    return biases, norm_params


def _shared_prefix(names: list[str]) -> str:
    """The dotted prefix every parameter name shares (``'model.'`` of a wrapped model)."""
    parts = os.path.commonprefix([n.split(".")[:-1] for n in names])
    return "".join(f"{p}." for p in parts)


def _block_names(per_block: list[list[str]]) -> list[str]:
    """Readable, distinct labels: ``'1:layer1.0'``, ``'0:conv1+bn1'``, or, when two blocks
    share a prefix, the modules below it: ``'1:features.denseblock1+transition1'``."""
    short = [_block_label(names, expand=False) for names in per_block]
    return [f"{i}:{_block_label(names, expand=True) if short.count(label) > 1 else label}"
            for i, (names, label) in enumerate(zip(per_block, short))]


def _block_label(names: list[str], expand: bool) -> str:
    """The dotted prefix the parameter names share, with the distinct modules just below it
    when there is no shared prefix or ``expand`` is set."""
    split = [n.split(".")[:-1] for n in names]  # module paths, without the parameter names
    common = os.path.commonprefix(split)
    base = ".".join(common)
    if base and not expand:
        return base
    below = list(dict.fromkeys(p[len(common)] for p in split if len(p) > len(common)))
    shown = "+".join(below[:3]) + ("+..." if len(below) > 3 else "")
    return f"{base}.{shown}" if base and shown else base or shown


def count_trainable(model: nn.Module) -> int:
    """Number of scalar parameters with ``requires_grad`` set."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def set_requires_grad(params, flag: bool) -> None:
    """Set ``requires_grad`` on every parameter of an iterable."""
    for p in params:
        p.requires_grad_(flag)


def snapshot(params) -> list[torch.Tensor]:
    """Detached copies of tensors, for bit-exact before/after comparisons."""
    return [p.detach().clone() for p in params]
