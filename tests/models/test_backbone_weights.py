"""Backbones by name and weights: hub (cached or offline), local files, ftbench pretrain."""

from __future__ import annotations

import json
import socket

import numpy as np
import pandas as pd
import pytest
import timm
import torch
from PIL import Image

from benchmarks.cli.commands import main
from benchmarks.models.backbones import create_backbone
from benchmarks.models.ref import BackboneRef, parse_backbone
from benchmarks.models.tv_backbones import create_tv_backbone, tv_weights_file
from benchmarks.models.weights import resolve_weights
from benchmarks.suite.model import suite_from_dict


@pytest.fixture
def offline(monkeypatch):
    """No host can be reached, whatever this machine's network."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """An empty torch hub cache of the test's own."""
    folder = tmp_path / "torch-hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(folder))
    (folder / "checkpoints").mkdir(parents=True)
    return folder / "checkpoints"


@pytest.mark.parametrize("entry,kind,key", [
    ("test_resnet", "ftbench", "test_resnet"),
    ("timm:resnet18.a1_in1k", "hub", "timm:resnet18.a1_in1k"),
    ("tv:resnet18", "hub", "tv:resnet18"),
    ({"name": "tv:resnet18", "weights": "IMAGENET1K_V1", "as": "r18"}, "hub", "r18"),
    ({"name": "test_resnet", "weights": "ckpt/mine.safetensors"}, "file", "test_resnet"),
    ({"name": "timm:resnet18", "weights": "none", "input_size": 64}, "none", "timm:resnet18"),
])
def test_backbone_entries_name_their_weights(entry, kind, key):
    ref = parse_backbone(entry, "suite")
    assert (ref.kind, ref.key) == (kind, key)
    suite = suite_from_dict({"name": "s", "backbones": [entry], "datasets": ["synth_far"],
                             "sizes": [10], "strategies": ["feature_extraction"]})
    assert suite_from_dict(suite.to_dict()) == suite


@pytest.mark.parametrize("entry,needle", [
    ("hf:resnet18", "prefix is 'hf'"),
    ({"name": "test_resnet", "weigths": "hub"}, "keys must be among"),
    ({"name": "test_resnet", "input_size": 4}, "input_size must be an integer >= 8"),
    ({"weights": "hub"}, "mapping with a 'name'"),
])
def test_bad_backbone_entries_are_clear(entry, needle):
    with pytest.raises(ValueError, match=needle):
        parse_backbone(entry, "suite")


@pytest.mark.parametrize("name", ["timm:resnet18.a1_in1k", "tv:resnet18"])
def test_offline_hub_weights_fail_at_once_with_three_ways_out(tmp_path, offline, hub_dir, name):
    with pytest.raises(ValueError) as error:
        resolve_weights(BackboneRef(name), tmp_path)
    message = str(error.value)
    assert name in message and "\n" not in message
    for way in ("connect to the internet", "weights: PATH", "ftbench pretrain"):
        assert way in message


def test_a_suite_needing_unreachable_hub_weights_stops_before_writing(tmp_path, offline, hub_dir,
                                                                     capsys):
    suite = tmp_path / "hub.yaml"
    suite.write_text("name: hub\nbackbones: ['timm:resnet18.a1_in1k']\ndatasets: [synth_far]\n"
                     "sizes: [10]\nstrategies: [feature_extraction]\n")
    code = main(["run", str(suite), "--results-dir", str(tmp_path / "r"), "--cache-dir",
                 str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "ftbench pretrain" in err
    assert not (tmp_path / "r").exists()


def test_timm_hub_weights_found_in_torch_hub_cache_load_offline(tmp_path, offline, hub_dir):
    published = timm.create_model("resnet18.a1_in1k", pretrained=False)
    url = published.pretrained_cfg["url"]
    torch.save(published.state_dict(), hub_dir / url.rsplit("/", 1)[1])
    weights = resolve_weights(BackboneRef("timm:resnet18.a1_in1k"), tmp_path / "cache")
    assert weights.input_size == 224 and weights.path.is_file()
    model = create_backbone("timm:resnet18.a1_in1k", 3, weights.path)
    assert torch.equal(model.conv1.weight, published.conv1.weight)
    assert model.get_classifier().out_features == 3


def test_torchvision_hub_weights_found_in_torch_hub_cache_load_offline(tmp_path, offline,
                                                                       hub_dir):
    published = create_tv_backbone("resnet18", 1000)
    torch.save(published.model.state_dict(), tv_weights_file("resnet18", "IMAGENET1K_V1"))
    ref = parse_backbone({"name": "tv:resnet18", "weights": "IMAGENET1K_V1"}, "suite")
    weights = resolve_weights(ref, tmp_path / "cache")
    model = create_backbone("tv:resnet18", 4, weights.path)
    assert torch.equal(model.model.layer1[0].conv1.weight, published.model.layer1[0].conv1.weight)
    assert weights.input_size == 224 and model.get_classifier().out_features == 4


def test_list_backbones_marks_offline_weights(hub_dir, capsys):
    torch.save(create_tv_backbone("resnet18", 1000).model.state_dict(),
               tv_weights_file("resnet18", "IMAGENET1K_V1"))
    assert main(["list", "backbones", "tv:resnet*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "* tv:resnet18  weights: IMAGENET1K_V1 (offline)" in lines
    assert any(line.startswith("  tv:resnet50") for line in lines)
    assert not any("timm:" in line for line in lines)
    assert main(["list", "backbones", "test_res*"]) == 0
    assert "  timm:test_resnet.r160_in1k" in capsys.readouterr().out.splitlines()


def test_ftbench_pretrain_writes_a_checkpoint_a_suite_can_use(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for label in ("a", "b", "c"):
        (tmp_path / "own" / label).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "own" / label / f"{i}.png")
    out = tmp_path / "mine.safetensors"
    args = ["pretrain", "--dataset", "imagefolder", "--option", f"root={tmp_path / 'own'}",
            "--option", "image_size=24", "--option", "classes=[a, b]", "--epochs", "1",
            "--out", str(out), "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"weights: {out}" in printed and out.is_file()
    assert json.loads(out.with_suffix(".json").read_text())["input_size"] == 24
    ref = parse_backbone({"name": "test_resnet", "weights": str(out)}, "suite")
    weights = resolve_weights(ref, tmp_path / "c")
    assert (weights.path, weights.input_size) == (out, 24)
    assert main(args) == 2  # never overwrites
    assert "must not exist yet" in capsys.readouterr().err


@pytest.mark.parametrize("extra,needle", [
    (["--option", "classes"], "KEY=VALUE"),
    (["--dataset", "synth_fra"], "synth_far"),
    (["--backbone", "tv:resnet81"], "resnet18"),
    (["--epochs", "0"], "epochs >= 1"),
    (["--out", "x.txt"], "suffix must be one of"),
])
def test_bad_pretrain_arguments_are_one_line(tmp_path, capsys, extra, needle):
    assert main(["pretrain", "--cache-dir", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_a_checkpoint_of_another_architecture_stops_the_suite_before_writing(tmp_path, capsys):
    torch.save(timm.create_model("test_vit").state_dict(), tmp_path / "vit.pt")
    suite = tmp_path / "s.yaml"
    suite.write_text(f"name: s\nbackbones: [{{name: test_resnet, weights: {tmp_path}/vit.pt}}]\n"
                     "datasets: [synth_far]\nsizes: [10]\nstrategies: [feature_extraction]\n")
    assert main(["run", str(suite), "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "vit.pt" in err and "missing" in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_a_torchvision_backbone_runs_a_suite_and_its_costs_are_recorded(tmp_path):
    suite = tmp_path / "tv.yaml"
    suite.write_text("name: tv\nbackbones: [{name: 'tv:resnet18', weights: none, "
                     "input_size: 32, as: r18}]\ndatasets: [synth_far]\nsizes: [20]\n"
                     "strategies: [feature_extraction, full_finetune]\ntrials: 1\nseeds: [0]\n"
                     "train: {max_epochs: 1, batch_size: 16}\n")
    args = ["run", str(suite), "--results-dir", str(tmp_path / "r"), "--cache-dir",
            str(tmp_path / "c"), "--no-progress", "--no-report"]
    assert main(args) == 0
    trials = pd.read_csv(tmp_path / "r" / "tv" / "trials.csv")
    assert set(trials.backbone) == {"r18"} and (trials.status == "COMPLETE").all()
    costs = pd.read_csv(tmp_path / "r" / "tv" / "backbones.csv")
    row = costs.iloc[0]
    assert (row.backbone, row.model, row.weights, row.input_size) == ("r18", "tv:resnet18",
                                                                      "none", 32)
    assert row.params == trials.total_params.iloc[0] and row.flops > 0
    assert row.infer_img_per_s > 0
