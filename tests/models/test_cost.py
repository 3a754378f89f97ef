"""Cost facts: parameter count, FLOPs per image, throughput and the CSV row."""

from __future__ import annotations

import pytest
import timm
import torch

from benchmarks.models.cost import CostFacts, cost_facts, count_flops

FAST = {"batch_size": 2, "min_time_s": 0.01}


def test_flops_of_a_linear_layer_count_a_multiply_add_as_two():
    assert count_flops(torch.nn.Linear(10, 5), torch.randn(1, 10)) == 2 * 10 * 5


@pytest.mark.parametrize("name", ["test_resnet", "test_vit", "test_convnext", "test_efficientnet"])
def test_cost_facts_of_every_backbone_family(name):
    model = timm.create_model(name, num_classes=3).train()
    facts = cost_facts(model, input_size=160, **FAST)
    assert facts.params == sum(p.numel() for p in model.parameters())
    assert facts.flops > 0 and facts.gflops == facts.flops / 1e9
    assert facts.infer_img_per_s > 0 and facts.device == "cpu"
    assert model.training  # the caller's mode is restored


def test_flops_grow_with_the_input_size():
    model = timm.create_model("test_resnet", num_classes=3)
    small, large = (cost_facts(model, size, **FAST).flops for size in (32, 64))
    assert large > small


def test_a_plain_module_works():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten())
    facts = cost_facts(model, input_size=8, **FAST)
    assert facts.params == 4 * 3 * 3 * 3 + 4
    assert facts.flops == 2 * (4 * 3 * 3 * 3) * 6 * 6


def test_to_row_holds_plain_values():
    facts = cost_facts(timm.create_model("test_resnet", num_classes=3), 32, **FAST)
    row = facts.to_row()
    assert set(row) == {
        "params",
        "flops",
        "gflops",
        "infer_img_per_s",
        "input_size",
        "device",
        "batch_size",
    }
    assert all(type(v) in (int, float, str) for v in row.values())
    assert isinstance(facts, CostFacts)


def test_a_non_positive_argument_is_a_one_line_error():
    with pytest.raises(ValueError, match="'batch_size': batch_size > 0 must hold, but got 0"):
        cost_facts(torch.nn.Identity(), 8, batch_size=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_timing_returns_the_model_to_its_device():
    model = timm.create_model("test_resnet", num_classes=3)
    facts = cost_facts(model, 32, device="cuda", **FAST)
    assert facts.device.startswith("cuda") and facts.infer_img_per_s > 0
    assert next(model.parameters()).device.type == "cpu"
