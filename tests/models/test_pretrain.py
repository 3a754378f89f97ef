"""The pretrained-checkpoint cache: keyed by everything that determines the weights."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from benchmarks.models.backbones import create_backbone, load_checkpoint
from benchmarks.models.pretrain import PretrainConfig, checkpoint_path, ensure_pretrained

FAST = PretrainConfig(backbone="test_resnet", dataset="synth_far", epochs=1, batch_size=256)


def test_pretraining_is_cached_and_reused(tmp_path):
    first = ensure_pretrained(FAST, tmp_path)
    path, meta = first.path, first.meta
    assert path.exists() and not meta["cached"] and 0 <= meta["source_test_acc"] <= 1
    assert first.input_size == 32  # synth_far's images: the backbone's input size from now on
    stamp = path.stat().st_mtime_ns
    again = ensure_pretrained(FAST, tmp_path)
    assert again.path == path and again.meta["cached"] and path.stat().st_mtime_ns == stamp
    assert again.input_size == 32


@pytest.mark.parametrize("change", [{"epochs": 2}, {"lr": 1e-3}, {"seed": 1},
                                    {"dataset": "synth_near"}, {"backbone": "test_vit"}])
def test_cache_key_changes_with_anything_that_shapes_the_weights(change):
    assert FAST.cache_key() != dataclasses.replace(FAST, **change).cache_key()


def test_checkpoint_loads_into_a_model_with_a_new_head(tmp_path):
    path = ensure_pretrained(FAST, tmp_path).path
    model = create_backbone("test_resnet", num_classes=3, checkpoint=path)
    saved = torch.load(path, weights_only=True)
    assert torch.equal(model.state_dict()["conv1.0.weight"], saved["conv1.0.weight"])
    assert model.get_classifier().out_features == 3


def test_dataparallel_prefixes_are_stripped(tmp_path):
    model = create_backbone("test_resnet", num_classes=3)
    wrapped = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"state_dict": wrapped}, tmp_path / "dp.pth")
    fresh = create_backbone("test_resnet", num_classes=3)
    load_checkpoint(fresh, tmp_path / "dp.pth")
    assert torch.equal(fresh.state_dict()["fc.weight"], model.state_dict()["fc.weight"])


def test_a_checkpoint_of_another_architecture_is_a_clear_error(tmp_path):
    torch.save(create_backbone("test_vit", num_classes=3).state_dict(), tmp_path / "vit.pt")
    with pytest.raises(ValueError, match="missing .* unexpected"):
        create_backbone("test_resnet", num_classes=3, checkpoint=tmp_path / "vit.pt")


def test_a_corrupt_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.pt"):
        create_backbone("test_resnet", num_classes=3, checkpoint=tmp_path / "bad.pt")


def test_cache_path_names_backbone_and_dataset(tmp_path):
    assert checkpoint_path(FAST, tmp_path).name.startswith("test_resnet-synth_far-")
