"""Contract tests run over every registered strategy x every backbone family."""

from __future__ import annotations

import dataclasses

import optuna
import pytest
import torch

from benchmarks.engine.config import TrainConfig
from benchmarks.engine.training import train
from strategies import (
    StrategyContext,
    count_trainable,
    get_strategy,
    layer_groups,
    list_strategies,
    param_groups,
    set_requires_grad,
)
from strategies.apply import trainable_params
from strategies.groups import NORM_TYPES
from tests.conftest import FAMILIES, tiny_data, tiny_model

STRATEGIES = list_strategies()


def _setup(strategy_name: str, family: str, epoch: int = 0, **changes):
    model = tiny_model(family)
    ctx = StrategyContext(n_blocks=layer_groups(model).n_blocks, max_epochs=2)
    cls = get_strategy(strategy_name)
    strategy = cls(dataclasses.replace(cls.default_config(ctx), **changes))
    strategy.prepare_model(model)
    groups = layer_groups(model)
    set_requires_grad(strategy, groups, epoch)
    return model, groups, strategy


def declared(strategy, groups, epoch: int = 0) -> set[int]:
    """Ids of the tensors the strategy declares trainable at ``epoch``: each unfrozen block's
    chosen tensors, and the head."""
    frozen = strategy.frozen_blocks(groups.n_blocks, epoch)
    return {id(p) for b in groups.blocks for p in trainable_params(strategy, b, frozen)} | {
        id(p) for p in groups.head}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", STRATEGIES)
def test_trainable_parameters_are_exactly_the_optimizer_groups(name, family):
    model, groups, strategy = _setup(name, family)
    pgroups = param_groups(strategy, groups, 0)
    in_optimizer = [id(p) for g in pgroups for p in g["params"]]
    assert len(in_optimizer) == len(set(in_optimizer)), "param groups overlap"
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert set(in_optimizer) == trainable == declared(strategy, groups)
    assert count_trainable(model) == sum(p.numel() for g in pgroups for p in g["params"])
    frozen = strategy.frozen_blocks(groups.n_blocks, 0)
    for block in groups.blocks:
        if block.index in frozen:
            assert not any(p.requires_grad for p in block.params), block.name
    assert all(p.requires_grad for p in groups.head)
    for g in pgroups:
        assert g["name"] and g["lr"] > 0 and g["lr"] == g["nominal_lr"]


def _like_pretrained(model: torch.nn.Module) -> None:
    """No zero-initialised norm scales (timm zero-inits each residual branch's last one, which
    would starve a bias-only strategy of gradients, as no pretrained backbone would)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, NORM_TYPES) and module.weight is not None:
                module.weight.uniform_(0.5, 1.5)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", STRATEGIES)
def test_training_changes_exactly_the_trainable_parameters(name, family):
    model, groups, strategy = _setup(name, family)
    _like_pretrained(model)
    frozen = strategy.frozen_blocks(groups.n_blocks, 0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trains = declared(strategy, groups)
    stats_before = [
        (m, m.running_mean.clone(), m.running_var.clone())
        for b in groups.blocks if b.index in frozen for m in b.norms
    ]
    cfg = TrainConfig(max_epochs=1, batch_size=8, warmup_epochs=0)
    strategy = type(strategy)(dataclasses.replace(strategy.config, lr=1e-2))
    train(model, strategy, groups, tiny_data(), cfg, seed=0)
    for n, p in model.named_parameters():
        changed = not torch.equal(before[n], p.detach())
        assert changed == (id(p) in trains), f"{n}: changed={changed}"
    for module, mean, var in stats_before:
        assert torch.equal(module.running_mean, mean) and torch.equal(module.running_var, var)


@pytest.mark.parametrize("name", STRATEGIES)
def test_config_round_trips_and_search_space_replays(name):
    cls = get_strategy(name)
    ctx = StrategyContext(n_blocks=5, max_epochs=8)
    default = cls(cls.default_config(ctx))
    assert cls.config_cls.from_dict(default.config.to_dict()) == default.config
    replayed = cls(cls.suggest(optuna.trial.FixedTrial(default.search_params()), ctx))
    assert replayed.search_params() == default.search_params()


@pytest.mark.parametrize("name", STRATEGIES)
def test_search_space_samples_lr_over_the_wide_range(name):
    cls = get_strategy(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    ctx = StrategyContext(n_blocks=5, max_epochs=8)
    study.optimize(lambda t: cls.suggest(t, ctx).lr, n_trials=1)
    dist = study.trials[0].distributions["lr"]
    assert dist.log and dist.low <= 1e-6 and dist.high >= 1e-1


@pytest.mark.parametrize("family", FAMILIES)
def test_cached_features_train_the_head_like_the_full_model(family):
    """Feature extraction on cached features = the same run through the whole network."""
    results = []
    for cache in (True, False):
        model, groups, strategy = _setup("feature_extraction", family)
        cfg = TrainConfig(max_epochs=2, batch_size=8, warmup_epochs=0, cache_features=cache)
        result = train(model, strategy, groups, tiny_data(), cfg, seed=0)
        assert result.cached_features == cache
        results.append((result, model.get_classifier().weight.detach().clone()))
    (cached, w_cached), (full, w_full) = results
    assert [h["val_acc"] for h in cached.history] == [h["val_acc"] for h in full.history]
    torch.testing.assert_close(w_cached, w_full, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "feature_extraction"])
def test_strategies_that_train_the_backbone_never_use_cached_features(name):
    model, groups, strategy = _setup(name, "test_resnet")
    cfg = TrainConfig(max_epochs=4, batch_size=8)  # long enough for every unfreezing plan
    assert not train(model, strategy, groups, tiny_data(), cfg, seed=0).cached_features
