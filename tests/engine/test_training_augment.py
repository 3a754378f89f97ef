"""Augmentation inside the trainer, cached features only without it, and peak memory."""

from __future__ import annotations

import pytest
import torch

from benchmarks.data.registry import ImageSet, TaskData
from benchmarks.data.resize import resize_task
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.tensors import Batches
from benchmarks.engine.training import train
from strategies import StrategyContext, get_strategy, layer_groups
from tests.conftest import tiny_data, tiny_model


def _train(strategy_name: str, augment, epochs: int = 2):
    model = tiny_model("test_resnet")
    groups = layer_groups(model)
    cls = get_strategy(strategy_name)
    strategy = cls(cls.default_config(StrategyContext(groups.n_blocks, epochs)))
    cfg = TrainConfig(max_epochs=epochs, batch_size=8, augment=augment)
    return train(model, strategy, groups, tiny_data(), cfg, seed=0)


@pytest.mark.parametrize("augment,cached", [("none", True), ("flip_crop", False)])
def test_features_are_cached_only_when_no_augmentation_touches_the_images(augment, cached):
    assert _train("feature_extraction", augment).cached_features is cached


@pytest.mark.parametrize("augment", ["flip_crop", "randaugment", "mixup", "cutmix",
                                     {"name": "mixup", "mixup_alpha": 0.4}])
def test_every_augmentation_trains_with_finite_losses(augment):
    result = _train("full_finetune", augment)
    assert result.epochs_run == 2 and not result.cached_features
    assert all(torch.isfinite(torch.tensor(h["train_loss"])) for h in result.history)


def test_augmentation_changes_the_training_but_not_the_sample_order():
    plain = _train("full_finetune", "none", epochs=1).history[0]["train_loss"]
    flipped = _train("full_finetune", "flip_crop", epochs=1).history[0]["train_loss"]
    assert plain != flipped
    data = tiny_data()
    seen = []
    for augment in (None, lambda x, y, g: (x.flip(3), y)):
        batches = Batches(data.x_train, data.y_train, 8, torch.device("cpu"), 3, lambda x: x,
                          augment)
        seen.append(torch.cat([y for _, y in batches]))
    assert torch.equal(seen[0], seen[1])


@pytest.mark.parametrize("augment,needle", [
    ("mixpu", "Did you mean: mixup"),
    ({"name": "mixup", "alpha": 1}, "keys must be among"),
    (3, "a name or a mapping"),
])
def test_bad_augmentation_settings_are_clear(augment, needle):
    with pytest.raises(ValueError, match=needle):
        TrainConfig(augment=augment)


def test_peak_memory_is_measured():
    assert _train("feature_extraction", "none").peak_mem_mb > 10  # at least torch itself


def test_resizing_a_task_changes_images_not_labels():
    x = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    y = torch.arange(6) % 2
    task = TaskData("t", "far", ("a", "b"), ImageSet(x, y), ImageSet(x[:2], y[:2]))
    assert resize_task(task, 32) is task
    small = resize_task(task, 28)
    assert small.train.images.shape == (6, 3, 28, 28) and small.test.images.shape[-1] == 28
    assert small.train.images.dtype == torch.uint8 and torch.equal(small.train.labels, y)


def test_bf16_autocast_trains_on_cpu_and_changes_the_numbers():
    fp32 = _train_cfg("full_finetune", TrainConfig(max_epochs=1, batch_size=8))
    bf16 = _train_cfg("full_finetune", TrainConfig(max_epochs=1, batch_size=8, precision="bf16"))
    assert torch.isfinite(torch.tensor(bf16.history[0]["train_loss"]))
    assert bf16.history[0]["train_loss"] != fp32.history[0]["train_loss"]


def test_channels_last_gives_the_same_training_up_to_rounding():
    plain = _train_cfg("full_finetune", TrainConfig(max_epochs=1, batch_size=8))
    last = _train_cfg("full_finetune", TrainConfig(max_epochs=1, batch_size=8,
                                                   channels_last=True))
    assert last.history[0]["train_loss"] == pytest.approx(plain.history[0]["train_loss"],
                                                          rel=1e-4)


@pytest.mark.parametrize("precision,device", [("fp16", "cpu"), ("bf16", "mps")])
def test_an_unsupported_precision_is_a_clear_error(precision, device):
    from benchmarks.engine.precision import make_precision

    with pytest.raises(ValueError, match=f"train.precision '{precision}'"):
        make_precision(precision, torch.device(device))


def test_training_is_deterministic_on_cpu():
    first = _train_cfg("partial_freeze", TrainConfig(max_epochs=2, batch_size=8,
                                                     augment="flip_crop"))
    second = _train_cfg("partial_freeze", TrainConfig(max_epochs=2, batch_size=8,
                                                      augment="flip_crop"))
    assert first.history == second.history


def _train_cfg(strategy_name: str, cfg: TrainConfig):
    model = tiny_model("test_resnet")
    groups = layer_groups(model)
    cls = get_strategy(strategy_name)
    strategy = cls(cls.default_config(StrategyContext(groups.n_blocks, cfg.max_epochs)))
    return train(model, strategy, groups, tiny_data(), cfg, seed=0)
