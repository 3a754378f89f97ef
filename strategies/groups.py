"""Ordered layer groups (stem -> blocks -> head) of a timm model, from its own group matcher."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from timm.models import group_parameters
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


@dataclass(frozen=True)
class Block:
    """One ordered group of the backbone: its parameters and its BatchNorm modules."""

    index: int
    name: str
    params: tuple[nn.Parameter, ...]
    norms: tuple[_BatchNorm, ...]

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
    blocks = []
    for ordinal, gid in enumerate(order):
        names = [n for n, _ in named if group_of[n] == gid]
        blocks.append(
            Block(
                index=ordinal,
                name=_block_name(names, ordinal),
                params=tuple(p for n, p in named if group_of[n] == gid),
                norms=tuple(norms.get(gid, ())),
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


def _block_name(names: list[str], ordinal: int) -> str:
    """A readable label such as ``'1:layer1.0'``, ``'3:blocks.2'`` or ``'0:conv1+bn1'``."""
    common = os.path.commonprefix([n.split(".") for n in names])
    if common:
        return f"{ordinal}:{'.'.join(common)}"
    roots = list(dict.fromkeys(n.split(".")[0] for n in names))
    return f"{ordinal}:{'+'.join(roots[:3])}{'+...' if len(roots) > 3 else ''}"


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
