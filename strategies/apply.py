"""Apply a strategy to a model: requires_grad, optimizer param groups and BatchNorm modes."""

from __future__ import annotations

from torch import nn
from torch.optim import Optimizer

from strategies.base import HEAD, BNPolicy, Strategy
from strategies.groups import Block, LayerGroups


def trainable_params(strategy: Strategy, block: Block, frozen: frozenset[int]) -> list:
    """Parameters of ``block`` that train under ``strategy`` when ``frozen`` blocks are frozen:
    the strategy's :meth:`~strategies.base.Strategy.block_tensors`, less BatchNorm tensors
    under the ``frozen`` policy."""
    if block.index in frozen:
        return []
    chosen = strategy.block_tensors(block)
    if strategy.config.bn_trainable is BNPolicy.FROZEN:
        norm_ids = {id(p) for m in block.norms for p in m.parameters()}
        return [p for p in chosen if id(p) not in norm_ids]
    return list(chosen)


def set_requires_grad(strategy: Strategy, groups: LayerGroups, epoch: int) -> None:
    """Set ``requires_grad`` on every parameter for ``epoch``: frozen blocks off, the rest on."""
    frozen = strategy.frozen_blocks(groups.n_blocks, epoch)
    for block in groups.blocks:
        train_ids = {id(p) for p in trainable_params(strategy, block, frozen)}
        for p in block.params:
            p.requires_grad_(id(p) in train_ids)
    for p in groups.head:
        p.requires_grad_(True)


def param_groups(strategy: Strategy, groups: LayerGroups, epoch: int) -> list[dict]:
    """Optimizer param groups for ``epoch``: one per trainable block and decay class.

    Every group has an explicit ``name``, ``lr`` and ``nominal_lr`` (the LR before the
    schedule's warm-up/cosine factor). Weight decay applies to tensors of rank >= 2 only.
    Frozen parameters are never included.
    """
    frozen = strategy.frozen_blocks(groups.n_blocks, epoch)
    out: list[dict] = []
    for block in groups.blocks:
        params = trainable_params(strategy, block, frozen)
        lr = strategy.lr_for(block.index, groups.n_blocks, epoch)
        out += _split_decay(block.name, params, lr, strategy.config.weight_decay)
    lr_head = strategy.lr_for(HEAD, groups.n_blocks, epoch)
    out += _split_decay("head", list(groups.head), lr_head, strategy.config.weight_decay)
    return out


def _split_decay(name: str, params: list, lr: float, weight_decay: float) -> list[dict]:
    """Split parameters into a decayed group (rank >= 2) and an undecayed one."""
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = []
    for suffix, members, wd in (("", decay, weight_decay), ("/no_decay", no_decay, 0.0)):
        if members:
            groups.append(
                {"params": members, "name": name + suffix, "lr": lr, "nominal_lr": lr,
                 "weight_decay": wd}
            )
    return groups


def sync_optimizer(
    optimizer: Optimizer, strategy: Strategy, groups: LayerGroups, epoch: int
) -> list[str]:
    """Bring the optimizer to ``epoch``: add newly unfrozen groups, update nominal LRs.

    Returns:
        The names of the param groups added at this epoch.

    Raises:
        RuntimeError: if the strategy re-freezes a block already in the optimizer.
    """
    set_requires_grad(strategy, groups, epoch)
    wanted = {g["name"]: g for g in param_groups(strategy, groups, epoch)}
    present = {g["name"]: g for g in optimizer.param_groups}
    dropped = sorted(set(present) - set(wanted))
    if dropped:
        raise RuntimeError(
            f"strategy '{strategy.name}': blocks may only be unfrozen during training, "
            f"but epoch {epoch} re-freezes {dropped}."
        )
    added = []
    for name, group in wanted.items():
        if name in present:
            present[name]["nominal_lr"] = group["nominal_lr"]
        else:
            optimizer.add_param_group(group)
            added.append(name)
    return added


def set_train_mode(model: nn.Module, strategy: Strategy, groups: LayerGroups, epoch: int) -> None:
    """``model.train()``, then BatchNorm layers to eval mode wherever the policy says so."""
    model.train()
    frozen = strategy.frozen_blocks(groups.n_blocks, epoch)
    cfg = strategy.config
    for block in groups.blocks:
        policy = cfg.bn_frozen if block.index in frozen else cfg.bn_trainable
        if policy is not BNPolicy.TRAIN:
            for module in block.norms:
                module.eval()
