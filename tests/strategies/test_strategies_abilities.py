"""The three optional abilities of a strategy (which tensors of a block train, a model
transformed before training, a loss penalty) through the real training loop, and the three
strategies built on them: bitfit, lora, l2sp."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from benchmarks.engine.config import TrainConfig
from benchmarks.engine.training import train
from strategies import StrategyContext, get_strategy, layer_groups
from strategies.bitfit import BitFit, BitFitConfig
from strategies.groups import Block
from strategies.l2sp import L2SP, L2SPConfig
from strategies.lora import Lora, LoraConfig, lora_targets
from tests.conftest import FAMILIES, tiny_data, tiny_model

LITE = "tf_efficientnet_lite0"
"""The ImageNet suite's backbone (random weights here), beside the tiny families."""


def _model(family: str) -> nn.Module:
    model = tiny_model(family)
    with torch.no_grad():  # pretrained-like: no zero-initialised norm scales
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d | nn.LayerNorm) and module.weight is not None:
                module.weight.uniform_(0.5, 1.5)
    return model


def _train(model, strategy, epochs: int = 1, **cfg):
    cfg = TrainConfig(max_epochs=epochs, batch_size=8, warmup_epochs=0, **cfg)
    return train(model, strategy, layer_groups(model), tiny_data(), cfg, seed=0)


@pytest.mark.parametrize("family", [*FAMILIES, LITE])
def test_bitfit_trains_biases_only_and_norm_scales_on_request(family):
    for norm_params in (False, True):
        model = _model(family)
        groups = layer_groups(model)
        chosen = BitFit(BitFitConfig(norm_params=norm_params)).block_tensors
        biases = {id(p) for b in groups.blocks for p in b.biases}
        norms = {id(p) for b in groups.blocks for p in b.norm_params}
        picked = {id(p) for b in groups.blocks for p in chosen(b)}
        assert biases and picked == (biases | norms if norm_params else biases)


@pytest.mark.parametrize("family", [*FAMILIES, LITE])
def test_lora_leaves_every_base_weight_bit_identical_and_trains_its_adapters(family):
    model = _model(family)
    head = {id(p) for p in model.get_classifier().parameters()}
    base = [(p, p.detach().clone()) for p in model.parameters()]  # peft keeps these objects
    stats = [(b, b.clone()) for b in model.buffers() if b.dtype.is_floating_point]
    result = _train(model, Lora(LoraConfig(lr=1e-2)))
    for param, value in base:
        assert torch.equal(param.detach(), value) != (id(param) in head)
    for buffer, value in stats:  # BatchNorm statistics stay the pretrained ones
        assert torch.equal(buffer, value)
    known = {id(p) for p, _ in base}
    adapters = [p for p in model.parameters() if id(p) not in known]
    assert adapters and all(p.requires_grad for p in adapters)
    assert result.trainable_params == sum(p.numel() for p in model.parameters()
                                          if p.requires_grad)
    assert result.trainable_params == sum(p.numel() for p in adapters) + sum(
        p.numel() for p in model.get_classifier().parameters())
    lora_b = [p for n, p in model.named_parameters() if ".lora_B." in n]
    assert lora_b and all(p.abs().sum() > 0 for p in lora_b)  # they start at zero


@pytest.mark.parametrize("family", [*FAMILIES, LITE])
def test_lora_targets_linear_and_plain_convolutions_never_the_head(family):
    model = tiny_model(family)
    targets = lora_targets(model)
    modules = dict(model.named_modules())
    head = {id(m) for m in model.get_classifier().modules()}
    assert targets and all(id(modules[t]) not in head for t in targets)
    assert all(isinstance(modules[t], nn.Linear) or modules[t].groups == 1 for t in targets)


def test_lora_is_the_same_function_merged_or_not():
    from peft.tuners.lora import LoraLayer

    model = _model("test_resnet")
    _train(model, Lora(LoraConfig(lr=1e-2)))
    model.eval()
    x = tiny_data().normalise(tiny_data().x_val)
    with torch.no_grad():
        unmerged = model(x)
        for module in model.modules():
            if isinstance(module, LoraLayer):
                module.merge()
        merged = model(x)
    torch.testing.assert_close(merged, unmerged, rtol=1e-4, atol=1e-4)


def test_lora_prepares_once_and_fails_in_one_line_without_targets():
    model = tiny_model("test_resnet")
    strategy = Lora(LoraConfig())
    assert strategy.prepare_model(model) and strategy.prepare_model(model)
    assert sum(".lora_A." in n for n, _ in model.named_parameters()) == len(
        lora_targets(tiny_model("test_resnet")))

    class NoLayers(nn.Module):
        def get_classifier(self):
            return nn.Identity()

    with pytest.raises(ValueError, match="^strategy 'lora': a linear or non-grouped conv"):
        Lora(LoraConfig()).prepare_model(NoLayers())


@pytest.mark.parametrize("family", ["test_resnet", LITE])
def test_l2sp_penalty_is_zero_at_the_start_and_grows_as_weights_move(family):
    model = _model(family)
    strategy = L2SP(L2SPConfig(lr=1e-2, alpha=0.1, beta=0.0))
    strategy.prepare_model(model)
    groups = layer_groups(model)
    assert float(strategy.penalty(groups).detach()) == 0.0
    with torch.no_grad():
        groups.backbone_params()[0].add_(0.1)
    moved = float(strategy.penalty(groups).detach())
    expected = 0.5 * 0.1 * (0.1**2) * groups.backbone_params()[0].numel()
    assert moved == pytest.approx(expected, rel=1e-4)
    with_head = L2SP(L2SPConfig(alpha=0.1, beta=0.5))
    with_head.prepare_model(model)
    head = sum(float((p**2).sum().detach()) for p in groups.head)
    assert float(with_head.penalty(groups).detach()) == pytest.approx(0.5 * 0.5 * head, rel=1e-5)


def test_l2sp_keeps_the_backbone_nearer_its_start_than_full_finetuning():
    distances = {}
    for alpha in (0.0, 100.0):
        model = _model("test_resnet")
        start = [p.detach().clone() for p in layer_groups(model).backbone_params()]
        _train(model, L2SP(L2SPConfig(lr=1e-2, alpha=alpha, beta=0.0)), epochs=3)
        distances[alpha] = sum(float(((p.detach() - s) ** 2).sum()) for p, s in
                               zip(layer_groups(model).backbone_params(), start))
    assert distances[100.0] < 0.5 * distances[0.0]


@pytest.mark.parametrize("name", ["bitfit", "lora", "l2sp"])
def test_strategies_that_touch_every_block_never_use_a_cache(name):
    cls = get_strategy(name)
    model = _model("test_resnet")
    ctx = StrategyContext(n_blocks=layer_groups(model).n_blocks, max_epochs=2)
    result = _train(model, cls(cls.default_config(ctx)), epochs=2)
    assert not result.cached_features and result.cached_blocks == 0


class TopBiases(BitFit):
    """A plugin-style strategy: the first two blocks frozen, biases only in the rest."""

    name = "top_biases_test_only"

    def frozen_blocks(self, n_blocks: int, epoch: int) -> frozenset[int]:
        return frozenset({0, 1})

    def block_tensors(self, block: Block) -> tuple[nn.Parameter, ...]:
        return super().block_tensors(block)


def test_a_frozen_prefix_is_still_cached_and_exact_under_chosen_tensors():
    runs = []
    for cache in (True, False):
        model = _model("test_resnet")
        result = _train(model, TopBiases(BitFitConfig(lr=1e-2)), epochs=2,
                        cache_features=cache)
        runs.append((result, [p.detach().clone() for p in model.parameters()]))
    (cached, w_cached), (plain, w_plain) = runs
    assert cached.cached_blocks == 2 and plain.cached_blocks == 0
    assert [h["val_acc"] for h in cached.history] == [h["val_acc"] for h in plain.history]
    for a, b in zip(w_cached, w_plain):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_configs_check_their_new_fields():
    with pytest.raises(ValueError, match="rank >= 1"):
        LoraConfig(rank=0)
    with pytest.raises(ValueError, match="alpha > 0"):
        LoraConfig(alpha=0.0)
    with pytest.raises(ValueError, match="alpha >= 0"):
        L2SPConfig(alpha=-1.0)
    assert dataclasses.replace(L2SPConfig(), beta=0.0).weight_decay == 0.0
