"""Torchvision backbones behind the timm interface: the same contract for every family."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision.models import (
    ConvNeXt,
    EfficientNet_B1_Weights,
    SwinTransformer,
    VisionTransformer,
    get_model,
)
from torchvision.models.convnext import CNBlockConfig
from torchvision.models.swin_transformer import PatchMergingV2, SwinTransformerBlockV2

from benchmarks.engine.config import TrainConfig
from benchmarks.engine.features import can_cache
from benchmarks.engine.training import train
from benchmarks.models.tv_backbones import (
    TorchvisionBackbone,
    create_tv_backbone,
    list_tv_backbones,
    tv_weights_file,
)
from benchmarks.models.tv_families import TV_FAMILIES
from strategies import StrategyContext, get_strategy, layer_groups
from tests.conftest import tiny_data

SIZE = 32


def _tiny_convnext(stochastic_depth_prob: float = 0.0) -> ConvNeXt:
    widths = [(8, 16), (16, 24), (24, 32), (32, None)]
    return ConvNeXt([CNBlockConfig(i, o, 1) for i, o in widths], stochastic_depth_prob)


def _tiny_swin(v2: bool) -> SwinTransformer:
    extra = {"block": SwinTransformerBlockV2, "downsample_layer": PatchMergingV2} if v2 else {}
    return SwinTransformer([4, 4], 16, [1, 1, 1, 1], [1, 1, 1, 1], [2, 2], **extra)


def _tiny_vit() -> VisionTransformer:
    return VisionTransformer(SIZE, 8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64)


TINY = {  # families whose smallest torchvision model is too big for a unit test
    "convnext_tiny_cfg": ("convnext", _tiny_convnext),
    "vit_tiny_cfg": ("vit", _tiny_vit),
    "swin_tiny_cfg": ("swin", lambda: _tiny_swin(False)),
    "swin_v2_tiny_cfg": ("swin", lambda: _tiny_swin(True)),
}
NAMED = ["resnet18", "efficientnet_b0", "mobilenet_v2", "mobilenet_v3_small", "regnet_y_400mf",
         "densenet121", "shufflenet_v2_x0_5"]
CASES = NAMED + list(TINY)


def build(case: str, seed: int = 0) -> TorchvisionBackbone:
    """A randomly initialised 3-class backbone for one test case."""
    torch.manual_seed(seed)
    if case in NAMED:
        return create_tv_backbone(case, num_classes=3)
    family, make = TINY[case]
    backbone = TorchvisionBackbone(make(), family)
    backbone.reset_classifier(3)
    return backbone


@contextlib.contextmanager
def empty_weights():
    """Create parameters on the meta device: builds any model without memory or init cost."""
    register = nn.Module.register_parameter

    def on_meta(module, name, param):
        if param is not None:
            param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register(module, name, param)

    nn.Module.register_parameter = on_meta
    try:
        yield
    finally:
        nn.Module.register_parameter = register


def check_groups(model: TorchvisionBackbone) -> None:
    """Ordered stem -> blocks, every non-head parameter in one block, declared regexes only."""
    groups = layer_groups(model)
    head = model.get_classifier()
    assert {id(p) for p in groups.head} == {id(p) for p in head.parameters()}
    assert groups.n_blocks >= 3
    position = {id(p): i for i, p in enumerate(model.parameters())}
    firsts = [min(position[id(p)] for p in b.params) for b in groups.blocks]
    assert firsts == sorted(firsts) and len(set(firsts)) == len(firsts), "blocks out of order"
    in_blocks = [id(p) for b in groups.blocks for p in b.params]
    head_ids = {id(p) for p in head.parameters()}
    non_head = [id(p) for p in model.parameters() if id(p) not in head_ids]
    assert sorted(in_blocks) == sorted(non_head), "a parameter is missing or in two blocks"
    matcher = model.group_matcher(coarse=True)
    regexes = [matcher["stem"]] + [rx for rx, _ in matcher["blocks"]]
    names = {id(p): n for n, p in model.named_parameters()}
    stem = [names[id(p)] for p in groups.blocks[0].params]
    assert all(re.match(matcher["stem"], n) for n in stem), f"block 0 is not the stem: {stem}"
    unmatched = [names[i] for i in non_head if not any(re.match(r, names[i]) for r in regexes)]
    assert not unmatched, f"parameters left to timm's catch-all group: {unmatched[:5]}"


def test_every_family_has_a_case():
    with empty_weights():
        covered = {create_tv_backbone(c, 3).family.name for c in NAMED}
    assert covered | {family for family, _ in TINY.values()} == {f.name for f in TV_FAMILIES}


@pytest.mark.parametrize("case", CASES)
def test_groups_and_head(case):
    model = build(case)
    check_groups(model)
    assert model.num_classes == 3 and isinstance(model.get_classifier(), nn.Linear)
    assert f"{model.pretrained_cfg['classifier']}.weight" in model.state_dict()


@pytest.mark.parametrize(("case", "last_block_has"), [
    ("vit_tiny_cfg", "model.encoder.ln.weight"),
    ("convnext_tiny_cfg", "model.classifier.0.weight"),
    ("densenet121", "model.features.norm5.weight"),
    ("mobilenet_v3_small", "model.classifier.0.weight"),
])  # fmt: skip
def test_final_norm_joins_the_last_block(case, last_block_has):
    model = build(case)
    names = {id(p): n for n, p in model.named_parameters()}
    last = [names[id(p)] for p in layer_groups(model).blocks[-1].params]
    module = last_block_has.rsplit(".", 1)[0]
    assert last_block_has in last, "the final norm is not in the last block"
    assert any(not n.startswith(module) for n in last), "the final norm is a block of its own"


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_torchvision(case):
    model = build(case).eval()
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        logits = model(x)
        assert torch.equal(logits, model.model(x))
        pre = model.forward_head(model.forward_features(x), pre_logits=True)
        assert pre.shape == (2, model.get_classifier().in_features) == (2, model.num_features)
        assert torch.equal(model.get_classifier()(pre), logits)


@pytest.mark.parametrize("strategy_name", ["full_finetune", "feature_extraction"])
@pytest.mark.parametrize("case", CASES)
def test_one_training_epoch(case, strategy_name):
    model = build(case)
    groups = layer_groups(model)
    cls = get_strategy(strategy_name)
    strategy = cls(cls.default_config(StrategyContext(groups.n_blocks, max_epochs=1)))
    before = [[p.detach().clone() for p in b.params] for b in groups.blocks]
    head_before = [p.detach().clone() for p in groups.head]
    cfg = TrainConfig(max_epochs=1, batch_size=4, warmup_epochs=0)
    train(model, strategy, groups, tiny_data(n=8, size=SIZE), cfg, seed=0)
    changed = [any(not torch.equal(a, p) for a, p in zip(old, b.params))
               for old, b in zip(before, groups.blocks)]
    assert any(not torch.equal(a, p) for a, p in zip(head_before, groups.head))
    assert changed == [strategy_name == "full_finetune"] * groups.n_blocks


def test_drop_rate_reports_every_stochastic_layer_and_disables_the_cache():
    feature_extraction = get_strategy("feature_extraction")()
    with empty_weights():
        rates = {n: create_tv_backbone(n, 3, **kw).drop_rate for n, kw in [
            ("resnet18", {}), ("efficientnet_b0", {}), ("mobilenet_v3_small", {}),
            ("convnext_tiny", {}), ("densenet121", {"drop_rate": 0.3}),
            ("vit_b_16", {"attention_dropout": 0.05})]}
    assert rates == {"resnet18": 0.0, "efficientnet_b0": 0.2, "mobilenet_v3_small": 0.2,
                     "convnext_tiny": pytest.approx(0.1), "densenet121": 0.3, "vit_b_16": 0.05}
    for model, cacheable in [(build("resnet18"), True), (TorchvisionBackbone(
            _tiny_convnext(stochastic_depth_prob=0.1), "convnext"), False)]:
        assert can_cache(model, feature_extraction, layer_groups(model), 1) is cacheable


def test_pretrained_cfg_from_weights_and_vit_image_size():
    with empty_weights():
        b1 = create_tv_backbone("efficientnet_b1", 3)
        v1 = TorchvisionBackbone(get_model("efficientnet_b1"), "efficientnet",
                                 EfficientNet_B1_Weights.IMAGENET1K_V1)
        vit = create_tv_backbone("vit_b_16", 3, image_size=SIZE)
    assert b1.pretrained_cfg["input_size"] == (3, 240, 240) and b1.pretrained_cfg["tag"] == (
        "IMAGENET1K_V2")
    assert v1.pretrained_cfg["crop_pct"] == pytest.approx(240 / 256)
    assert vit.pretrained_cfg["input_size"] == (3, SIZE, SIZE)
    unnamed = TorchvisionBackbone(_tiny_convnext(), "convnext").pretrained_cfg
    assert unnamed["input_size"] == (3, 224, 224) and unnamed["mean"] == (0.485, 0.456, 0.406)


def test_adapt_state_dict_round_trip():
    torch.manual_seed(1)
    plain = get_model("resnet18").eval()
    model = create_tv_backbone("resnet18", num_classes=1000).eval()
    model.load_state_dict(model.adapt_state_dict(plain.state_dict()))
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        assert torch.equal(model(x), plain(x))
    own = model.state_dict()
    assert list(model.adapt_state_dict(own)) == list(own)


def test_listing_and_weights_file():
    assert "resnet18" in list_tv_backbones("resnet*")
    assert "vgg16" not in list_tv_backbones()
    assert list_tv_backbones() == sorted(list_tv_backbones())
    path = tv_weights_file("resnet50", "DEFAULT")
    assert path == Path(torch.hub.get_dir()) / "checkpoints" / "resnet50-11ad3fa6.pth"
    assert tv_weights_file("resnet50", "ResNet50_Weights.IMAGENET1K_V1").name.startswith(
        "resnet50-")
    assert tv_weights_file("resnet50", None) is None


@pytest.mark.parametrize(("call", "message"), [
    (lambda: create_tv_backbone("resnet181", 3), "Did you mean: resnet18"),
    (lambda: create_tv_backbone("vgg16", 3), "must be one of resnet, efficientnet"),
    (lambda: create_tv_backbone("resnet18", 0), "num_classes >= 1 must hold, but got 0"),
    (lambda: tv_weights_file("resnet18", "IMAGENET9K"), "must be one of IMAGENET1K_V1"),
    (lambda: TorchvisionBackbone(nn.Linear(2, 2), "vits"), "Did you mean: vit"),
])  # fmt: skip
def test_bad_input_gives_a_clear_error(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_wrong_family_for_a_model_is_a_type_error():
    with pytest.raises(TypeError, match="must be an nn.Linear"):
        TorchvisionBackbone(_tiny_vit(), "resnet")


@pytest.mark.parametrize("name", list_tv_backbones())
def test_every_supported_name_fits_its_family(name):
    with empty_weights():
        model = create_tv_backbone(name, 3)
    check_groups(model)
    parent = model.model.get_submodule(model.family.head.rpartition(".")[0])
    if isinstance(parent, nn.Sequential):
        assert list(parent.children())[-1] is model.get_classifier(), "head is not last"
