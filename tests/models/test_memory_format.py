"""The memory format: chosen by measurement (and cached) or set by the suite, and the same
run in either format, cached features and cached frozen prefixes included."""

from __future__ import annotations

import functools

import pytest
import timm
import torch

from benchmarks.engine.config import TrainConfig
from benchmarks.engine.training import train
from benchmarks.models import memory_format
from benchmarks.models.memory_format import FormatChoice, choose_format
from strategies import StrategyConfig, get_strategy, layer_groups
from strategies.freezing import PartialFreeze, PartialFreezeConfig
from tests.conftest import tiny_data

MODEL = functools.partial(timm.create_model, "test_resnet", num_classes=3)


def test_the_suite_s_setting_is_taken_without_measuring(tmp_path, monkeypatch):
    monkeypatch.setattr(memory_format, "measure_formats", pytest.fail)
    for setting in (True, False):
        choice = choose_format(setting, MODEL, 16, 8, "cpu", tmp_path, "test_resnet")
        assert choice == FormatChoice(setting, "suite")
    assert not (tmp_path / "formats").exists()


def test_auto_measures_both_formats_once_and_then_reads_the_cache(tmp_path, monkeypatch):
    first = choose_format("auto", MODEL, 16, 8, "cpu", tmp_path, "test_resnet")
    assert first.source == "measured"
    assert first.contiguous_img_per_s > 0 and first.channels_last_img_per_s > 0
    faster = first.channels_last_img_per_s >= memory_format.MARGIN * first.contiguous_img_per_s
    assert first.channels_last == faster
    monkeypatch.setattr(memory_format, "measure_formats", pytest.fail)
    again = choose_format("auto", MODEL, 16, 8, "cpu", tmp_path, "test_resnet")
    assert again == FormatChoice(first.channels_last, "cached", first.contiguous_img_per_s,
                                 first.channels_last_img_per_s)
    other = choose_format(False, MODEL, 32, 8, "cpu", tmp_path, "test_resnet")
    assert other.source == "suite"


def test_the_faster_format_is_the_one_chosen(tmp_path, monkeypatch):
    monkeypatch.setattr(memory_format, "measure_formats", lambda *a: (100.0, 104.0))
    assert choose_format("auto", MODEL, 16, 8, "cpu", tmp_path / "a", "m").channels_last is False
    monkeypatch.setattr(memory_format, "measure_formats", lambda *a: (100.0, 106.0))
    assert choose_format("auto", MODEL, 16, 8, "cpu", tmp_path / "b", "m").channels_last is True


def test_a_bad_setting_is_refused():
    with pytest.raises(ValueError, match="auto, true or false must hold, but got 'yes'"):
        TrainConfig(channels_last="yes")


def _run(strategy, channels_last: bool, **cfg):
    torch.manual_seed(0)
    model = MODEL()
    config = TrainConfig(max_epochs=2, batch_size=8, channels_last=channels_last, **cfg)
    return train(model, strategy, layer_groups(model), tiny_data(), config, seed=0)


STRATEGIES = {
    "cached features": (get_strategy("feature_extraction")(StrategyConfig(lr=1e-2)),
                        {"cached_features": True}),
    "cached frozen prefix": (PartialFreeze(PartialFreezeConfig(lr=1e-3, k=2)),
                             {"cached_blocks": 2}),
    "the whole network": (get_strategy("full_finetune")(StrategyConfig(lr=1e-3)),
                          {"cached_blocks": 0, "cached_features": False}),
}


@pytest.mark.parametrize("name", STRATEGIES)
def test_either_format_gives_the_same_run(name):
    strategy, route = STRATEGIES[name]
    plain, last = _run(strategy, False), _run(strategy, True)
    for result in (plain, last):
        assert {k: getattr(result, k) for k in route} == route
    assert [h["val_acc"] for h in plain.history] == [h["val_acc"] for h in last.history]
    for a, b in zip(plain.history, last.history):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
