"""What each built-in strategy freezes, its defaults, and registry errors."""

from __future__ import annotations

import pytest

from strategies import StrategyContext, get_strategy, layer_groups, list_strategies
from strategies.freezing import PartialFreezeConfig
from tests.conftest import tiny_model

CTX = StrategyContext(n_blocks=5, max_epochs=8)


def test_feature_extraction_freezes_every_block():
    fe = get_strategy("feature_extraction")()
    assert fe.frozen_blocks(5, 0) == frozenset(range(5))


@pytest.mark.parametrize("name", ["full_finetune", "from_scratch"])
def test_full_training_freezes_nothing(name):
    assert get_strategy(name)().frozen_blocks(5, 3) == frozenset()


def test_only_from_scratch_skips_the_pretrained_weights():
    assert [n for n in list_strategies() if not get_strategy(n).pretrained] == ["from_scratch"]


def test_partial_freeze_freezes_the_first_k_blocks():
    pf = get_strategy("partial_freeze")(PartialFreezeConfig(k=2))
    assert pf.frozen_blocks(5, 0) == frozenset({0, 1})
    assert pf.skip(CTX) is None


@pytest.mark.parametrize("k", [0, 5, 9])
def test_partial_freeze_skips_impossible_k_with_a_reason(k):
    reason = get_strategy("partial_freeze")(PartialFreezeConfig(k=k)).skip(CTX)
    assert reason is not None and f"k={k}" in reason and "5 blocks" in reason


def test_partial_freeze_default_trains_only_the_last_block():
    cfg = get_strategy("partial_freeze").default_config(CTX)
    assert cfg.k == CTX.n_blocks - 1


def test_guideline_defaults_sit_in_the_guideline_lr_ranges():
    ranges = {"feature_extraction": (1e-4, 1e-3), "partial_freeze": (1e-4, 5e-4),
              "full_finetune": (1e-5, 1e-4)}
    for name, (low, high) in ranges.items():
        assert low <= get_strategy(name).default_config(CTX).lr <= high


def test_resnet_blocks_follow_timm_grouping():
    groups = layer_groups(tiny_model("test_resnet"))
    assert [b.name for b in groups.blocks] == [
        "0:conv1+bn1", "1:layer1.0", "2:layer2.0", "3:layer3.0", "4:layer4.0"]


def test_vit_blocks_follow_timm_grouping():
    groups = layer_groups(tiny_model("test_vit"))
    assert groups.blocks[1].name == "1:blocks.0" and groups.n_blocks == 7


def test_unknown_strategy_names_the_closest_match():
    with pytest.raises(ValueError, match="Did you mean: partial_freeze"):
        get_strategy("partial_freez")


def test_list_strategies_accepts_wildcards():
    assert list_strategies("*finetune") == ["full_finetune"]


def test_unknown_config_key_names_the_closest_field():
    with pytest.raises(ValueError, match="Did you mean: k"):
        PartialFreezeConfig.from_dict({"kk": 2})


def test_unknown_bn_policy_is_rejected():
    with pytest.raises(ValueError, match="bn_frozen"):
        PartialFreezeConfig(bn_frozen="sometimes")
