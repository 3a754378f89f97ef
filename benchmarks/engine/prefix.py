"""Frozen-prefix caching: the input-side blocks that stay frozen run once per trial.

When a strategy keeps blocks ``0..k-1`` frozen in every epoch, their BatchNorm statistics are
fixed, nothing in them is stochastic and no augmentation touches the images, their output is
a fixed function of the image. ftbench then computes it once (eval mode, no autograd) and
trains the rest of the network on the stored activations.

The split follows the backbone's own layer groups (:func:`strategies.layer_groups`): the
model's modules, in registration order, are opened until each one belongs to a single block
(by parameter identity, never by name). Registration order is not always forward order, and
a model's ``forward`` may do work outside its modules (a ViT adds its position embedding), so
the split is used only where it is *verified* on a few training images: prefix-then-rest must
equal the model's own forward in eval mode and in the training mode of epoch 0. Otherwise
the trial silently takes the uncached path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from benchmarks.engine.features import has_random_layers
from strategies import HEAD, BNPolicy, LayerGroups, Strategy, set_train_mode

_VERIFY_IMAGES = 8
"""How many training images the split is verified on."""


@dataclass(frozen=True)
class PrefixSplit:
    """The model cut after its frozen input-side blocks.

    Attributes:
        prefix: the frozen blocks (and the parameter-free modules right after them).
        rest: every later module, the classifier included; its modules are the model's own.
        n_blocks: how many blocks the prefix holds (``k``).
    """

    prefix: nn.Sequential
    rest: nn.Sequential
    n_blocks: int


def frozen_prefix_length(strategy: Strategy, n_blocks: int, max_epochs: int) -> int:
    """The largest ``k`` such that blocks ``0..k-1`` are frozen in the first and last epoch.

    Blocks can only be unfrozen during training (``sync_optimizer`` refuses the opposite), so
    a block frozen in both is frozen in every epoch.
    """
    frozen = strategy.frozen_blocks(n_blocks, 0) & strategy.frozen_blocks(n_blocks, max_epochs - 1)
    k = 0
    while k < n_blocks and k in frozen:
        k += 1
    return k


def split_model(model: nn.Module, strategy: Strategy, groups: LayerGroups,
                max_epochs: int) -> PrefixSplit | None:
    """The split after the frozen prefix, or None when there is none that may be cached.

    None when fewer than one or all blocks are frozen throughout (all: see
    :mod:`benchmarks.engine.features`), when frozen BatchNorm layers train (``bn_frozen: train``),
    when the model's modules do not form a chain by blocks, or when the prefix holds dropout
    or drop-path. The split still needs :func:`verify_split`.
    """
    k = frozen_prefix_length(strategy, groups.n_blocks, max_epochs)
    if not 0 < k < groups.n_blocks or strategy.config.bn_frozen is BNPolicy.TRAIN:
        return None
    chain = _chain(model, groups)
    cut = None if chain is None else _cut(chain, k)
    if cut is None:
        return None
    prefix = [m for m, _ in chain[:cut]]
    if any(has_random_layers(m) for m in prefix):
        return None
    return PrefixSplit(nn.Sequential(*prefix), nn.Sequential(*(m for m, _ in chain[cut:])), k)


def _chain(model: nn.Module, groups: LayerGroups) -> list[tuple[nn.Module, int | None]] | None:
    """The model's modules in registration order, opened until each has one owner.

    The owner is a block index, ``HEAD``, or None for a module without parameters. None when
    the model (or a module that must be opened) has parameters of its own outside its
    children, or a module without children mixes owners.
    """
    owner = {id(p): b.index for b in groups.blocks for p in b.params}
    owner.update({id(p): HEAD for p in groups.head})
    out: list[tuple[nn.Module, int | None]] = []

    def visit(module: nn.Module) -> bool:
        owners = {owner.get(id(p)) for p in module.parameters()}
        if len(owners) <= 1:
            out.append((module, next(iter(owners), None)))
            return True
        if any(True for _ in module.parameters(recurse=False)) or not any(module.children()):
            return False
        return all(visit(child) for child in module.children())

    if any(True for _ in model.parameters(recurse=False)):
        return None
    return out if all(visit(child) for child in model.children()) else None


def _cut(chain: list[tuple[nn.Module, int | None]], k: int) -> int | None:
    """Index of the first module after the prefix of blocks ``0..k-1``, or None.

    The prefix ends at the last module of a block below ``k`` and takes the parameter-free
    modules that follow it (an activation, a pooling: smaller activations to store). None
    when a block below ``k`` comes after a later block or the head.
    """
    owners = [o for _, o in chain]
    frozen = [i for i, o in enumerate(owners) if o is not None and o != HEAD and o < k]
    later = [i for i, o in enumerate(owners) if o is not None and (o == HEAD or o >= k)]
    if not frozen or not later or max(frozen) > min(later):
        return None
    return min(later)


@torch.no_grad()
def verify_split(split: PrefixSplit, model: nn.Module, strategy: Strategy, groups: LayerGroups,
                 x: torch.Tensor) -> torch.Tensor | None:
    """The prefix's eval-mode outputs of the prepared batch ``x`` (its first few images) when
    prefix-then-rest gives the model's own output on them, else None.

    Checked in eval mode (validation) and in epoch 0's training mode with the prefix in eval
    mode (training on cached activations), with the same random seed for both passes.
    Buffers (BatchNorm running statistics) and the random state are restored afterwards.
    """
    x = x[:_VERIFY_IMAGES]
    saved = [b.detach().clone() for b in model.buffers()]
    devices = [x.device] if x.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            model.eval()
            cached = split.prefix(x)
            if not _close(model(x), split.rest(cached)):
                return None
            set_train_mode(model, strategy, groups, 0)
            torch.manual_seed(0)
            full = model(x)
            torch.manual_seed(0)
            return cached if _close(full, split.rest(cached)) else None
    except Exception:  # noqa: BLE001  (a chain that does not run is simply not a chain)
        return None
    finally:
        for buffer, value in zip(model.buffers(), saved):
            buffer.copy_(value)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same shape and values up to float noise."""
    return a.shape == b.shape and torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-5)


def cache_mb(outputs: torch.Tensor, n_images: int) -> float:
    """Megabytes the prefix's outputs of ``n_images`` images take, from ``outputs`` of a few
    (those :func:`verify_split` returns)."""
    return outputs[0].numel() * outputs.element_size() * n_images / 2**20
