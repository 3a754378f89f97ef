"""Frozen-prefix caching: same run as the full network, fallbacks, and no autograd in frozen
blocks (cached or not)."""

from __future__ import annotations

import pytest
import timm
import torch
import torch.nn.functional as F

from benchmarks.engine.config import TrainConfig
from benchmarks.engine.training import train
from strategies import BNPolicy, layer_groups
from strategies.freezing import PartialFreeze, PartialFreezeConfig
from tests.conftest import tiny_data


def _model(family: str = "test_resnet", **kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    return timm.create_model(family, pretrained=False, num_classes=3, **kwargs)


def _run(model, k: int, epochs: int = 2, bn_frozen=BNPolicy.FROZEN_STATS, **cfg):
    strategy = PartialFreeze(PartialFreezeConfig(lr=1e-3, k=k, bn_frozen=bn_frozen))
    config = TrainConfig(max_epochs=epochs, batch_size=8, **cfg)
    return train(model, strategy, layer_groups(model), tiny_data(), config, seed=0)


def _val_loss(model) -> float:
    data = tiny_data()
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(data.normalise(data.x_val)), data.y_val).item()


@pytest.mark.parametrize("family,k", [("test_resnet", 1), ("test_resnet", 2), ("test_resnet", 4),
                                      ("test_efficientnet", 2), ("test_convnext", 3)])
def test_a_cached_frozen_prefix_gives_the_same_run_as_the_full_network(family, k):
    cached_model, plain_model = _model(family), _model(family)
    cached = _run(cached_model, k)
    plain = _run(plain_model, k, cache_features=False)
    assert (cached.cached_blocks, plain.cached_blocks) == (k, 0)
    assert not cached.cached_features
    assert [h["val_acc"] for h in cached.history] == [h["val_acc"] for h in plain.history]
    for a, b in zip(cached.history, plain.history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
    assert _val_loss(cached_model) == pytest.approx(_val_loss(plain_model), rel=1e-4)


@pytest.mark.parametrize("why,model,kwargs", [
    ("frozen BatchNorm trains", _model, {"bn_frozen": BNPolicy.TRAIN}),
    ("augmentation", _model, {"augment": "flip_crop"}),
    ("over the memory limit", _model, {"cache_limit_mb": 0.0}),
    ("switched off", _model, {"cache_features": False}),
    # drop-path rates grow with depth: stage 0 has none, so freeze up to stage 2
    ("drop-path in the prefix", lambda: _model("test_efficientnet", drop_path_rate=0.2), {}),
    ("dropout the chain misses (train-mode check)", lambda: _model(drop_rate=0.5), {}),
    ("no chain of modules (ViT position embedding)", lambda: _model("test_vit"), {}),
])
def test_the_prefix_is_not_cached_when_it_could_change_or_cannot_be_verified(why, model, kwargs):
    result = _run(model(), 4, epochs=1, **kwargs)
    assert result.cached_blocks == 0, why
    assert result.epochs_run == 1


def _frozen_modules(model, k: int) -> list[torch.nn.Module]:
    """Modules whose parameters all lie in blocks 0..k-1 (found by identity, not by name)."""
    frozen = {id(p) for b in layer_groups(model).blocks[:k] for p in b.params}
    return [m for m in model.modules()
            if list(m.parameters()) and all(id(p) in frozen for p in m.parameters())]


@pytest.mark.parametrize("augment,cached_blocks", [("none", 2), ("flip_crop", 0)])
def test_frozen_blocks_record_no_autograd_graph_cached_or_not(augment, cached_blocks):
    model = _model()
    outputs = []
    for module in _frozen_modules(model, 2):
        module.register_forward_hook(lambda m, i, out: outputs.append(out))
    result = _run(model, 2, epochs=1, augment=augment)
    assert result.cached_blocks == cached_blocks
    assert outputs and all(o.grad_fn is None and not o.requires_grad for o in outputs)
    groups = layer_groups(model)
    assert all(p.grad is None for b in groups.blocks[:2] for p in b.params)
    assert all(p.grad is not None for b in groups.blocks[2:] for p in b.params)


def _stem_calls(epochs: int) -> int:
    model = _model()
    count = []
    _frozen_modules(model, 1)[0].register_forward_hook(lambda m, i, out: count.append(1))
    assert _run(model, 2, epochs=epochs).cached_blocks == 2
    return len(count)


def test_the_prefix_runs_once_per_trial_not_once_per_epoch():
    assert _stem_calls(1) == _stem_calls(3)


def test_a_negative_cache_limit_is_a_clear_error():
    with pytest.raises(ValueError, match="train.cache_limit_mb: cache_limit_mb >= 0 must hold"):
        TrainConfig(cache_limit_mb=-1)
