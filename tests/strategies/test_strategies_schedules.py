"""Gradual unfreezing, discriminative LRs, LP-FT, and the BatchNorm policies."""

from __future__ import annotations

import pytest
import torch
from timm.optim import create_optimizer_v2

from benchmarks.engine.config import TrainConfig
from benchmarks.engine.training import train
from strategies import HEAD, BNPolicy, get_strategy, layer_groups, param_groups, sync_optimizer
from strategies.freezing import PartialFreezeConfig
from strategies.schedules import (
    DiscriminativeLRConfig,
    GradualUnfreezeConfig,
    LPFTConfig,
    Stage,
)
from tests.conftest import FAMILIES, tiny_data, tiny_model

SEED_000_PLAN = [(10, 1, 1e-4), (20, 1, 5e-5), (30, -1, 1e-5)]


def test_seed_000_plan_is_a_configuration():
    gu = get_strategy("gradual_unfreeze")(GradualUnfreezeConfig(lr=1e-3, stages=SEED_000_PLAN))
    n = 5  # ResNet: stem, layer1..layer4
    assert gu.frozen_blocks(n, 9) == frozenset(range(5))
    assert gu.frozen_blocks(n, 10) == frozenset({0, 1, 2, 3})
    assert gu.frozen_blocks(n, 20) == frozenset({0, 1, 2})
    assert gu.frozen_blocks(n, 30) == frozenset()
    assert [gu.lr_for(b, n, 30) for b in (4, 3, 2, 1, 0)] == [1e-4, 5e-5, 1e-5, 1e-5, 1e-5]
    assert gu.lr_for(HEAD, n, 0) == 1e-3
    assert gu.config.stages[0] == Stage(10, 1, 1e-4)


def test_generated_plan_unfreezes_one_block_every_m_epochs():
    gu = get_strategy("gradual_unfreeze")(GradualUnfreezeConfig(lr=1e-2, every=2, decay=0.5))
    assert [gu.frozen_blocks(3, e) for e in range(7)] == [
        {0, 1, 2}, {0, 1, 2}, {0, 1}, {0, 1}, {0}, {0}, set()]
    assert gu.lr_for(2, 3, 6) == pytest.approx(5e-3)
    assert gu.lr_for(0, 3, 6) == pytest.approx(1.25e-3)


@pytest.mark.parametrize("family", FAMILIES)
def test_unfrozen_blocks_join_the_optimizer_and_change_at_the_next_step(family):
    model = tiny_model(family)
    groups = layer_groups(model)
    strategy = get_strategy("gradual_unfreeze")(GradualUnfreezeConfig(lr=1e-2, every=1))
    snapshots = []

    def report(epoch, metrics):
        snapshots.append([[p.detach().clone() for p in b.params] for b in groups.blocks])

    before = [[p.detach().clone() for p in b.params] for b in groups.blocks]
    cfg = TrainConfig(max_epochs=groups.n_blocks + 1, batch_size=8, warmup_epochs=0)
    train(model, strategy, groups, tiny_data(), cfg, seed=0, report=report)
    for epoch, after in enumerate(snapshots):
        frozen = strategy.frozen_blocks(groups.n_blocks, epoch)
        for block, old, new in zip(groups.blocks, before, after):
            changed = any(not torch.equal(a, b) for a, b in zip(old, new))
            assert changed == (block.index not in frozen), (epoch, block.name)
        before = after


def test_sync_optimizer_adds_groups_with_their_own_lr():
    model = tiny_model("test_resnet")
    groups = layer_groups(model)
    gu = get_strategy("gradual_unfreeze")(GradualUnfreezeConfig(lr=1e-2, stages=SEED_000_PLAN))
    opt = create_optimizer_v2(param_groups(gu, groups, 0), opt="adamw")
    assert {g["name"] for g in opt.param_groups} == {"head", "head/no_decay"}
    assert sync_optimizer(opt, gu, groups, 9) == []
    added = sync_optimizer(opt, gu, groups, 10)
    assert added == ["4:layer4.0", "4:layer4.0/no_decay"]
    assert all(g["lr"] == 1e-4 for g in opt.param_groups if g["name"] in added)
    sync_optimizer(opt, gu, groups, 30)
    in_opt = {id(p) for g in opt.param_groups for p in g["params"]}
    assert in_opt == {id(p) for p in model.parameters()}


def test_refreezing_a_block_is_refused():
    model = tiny_model("test_resnet")
    groups = layer_groups(model)
    full = get_strategy("full_finetune")()
    opt = create_optimizer_v2(param_groups(full, groups, 0), opt="adamw")
    with pytest.raises(RuntimeError, match="re-freezes"):
        sync_optimizer(opt, get_strategy("feature_extraction")(), groups, 1)


@pytest.mark.parametrize("family", FAMILIES)
def test_discriminative_lr_of_every_group_follows_the_formula(family):
    groups = layer_groups(tiny_model(family))
    dlr = get_strategy("discriminative_lr")(DiscriminativeLRConfig(lr=1e-3, decay=0.5))
    n = groups.n_blocks
    expected = {b.name: 1e-3 * 0.5 ** (n - b.index) for b in groups.blocks} | {"head": 1e-3}
    for g in param_groups(dlr, groups, 0):
        assert g["lr"] == pytest.approx(expected[g["name"].removesuffix("/no_decay")])


def test_discriminative_decay_range_covers_ulmfit_and_the_tutorials():
    import optuna

    study = optuna.create_study()
    ctx = get_strategy("discriminative_lr")
    study.optimize(lambda t: ctx.suggest(t, __import__("strategies").StrategyContext(5, 8)).lr,
                   n_trials=1)
    dist = study.trials[0].distributions["decay"]
    assert dist.low <= 1 / 2.6 and dist.high >= 0.9


def test_lp_ft_probes_then_unfreezes_everything_with_the_new_lr():
    lpft = get_strategy("lp_ft")(LPFTConfig(lr=1e-5, probe_lr=1e-3, probe_epochs=2))
    assert lpft.frozen_blocks(5, 1) == frozenset(range(5))
    assert lpft.frozen_blocks(5, 2) == frozenset()
    assert lpft.lr_for(HEAD, 5, 1) == 1e-3 and lpft.lr_for(HEAD, 5, 2) == 1e-5


def test_bn_fully_frozen_keeps_affine_and_statistics_in_trained_blocks():
    model = tiny_model("test_resnet")
    groups = layer_groups(model)
    strategy = get_strategy("full_finetune")(
        get_strategy("full_finetune").config_cls(lr=1e-2, bn_trainable=BNPolicy.FROZEN))
    norms = [m for b in groups.blocks for m in b.norms]
    before = [(m.weight.clone(), m.running_mean.clone()) for m in norms]
    train(model, strategy, groups, tiny_data(), TrainConfig(max_epochs=1, batch_size=8), seed=0)
    for m, (w, mean) in zip(norms, before):
        assert torch.equal(m.weight, w) and torch.equal(m.running_mean, mean)


def test_bn_train_policy_in_frozen_blocks_lets_statistics_drift():
    """The Lightning-style trap, reproduced on purpose: weights frozen, statistics not."""
    model = tiny_model("test_resnet")
    groups = layer_groups(model)
    strategy = get_strategy("partial_freeze")(
        PartialFreezeConfig(k=2, lr=1e-2, bn_frozen=BNPolicy.TRAIN))
    stem_bn = groups.blocks[0].norms[0]
    mean, weight = stem_bn.running_mean.clone(), stem_bn.weight.clone()
    train(model, strategy, groups, tiny_data(), TrainConfig(max_epochs=1, batch_size=8), seed=0)
    assert torch.equal(stem_bn.weight, weight) and not torch.equal(stem_bn.running_mean, mean)
