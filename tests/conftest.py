"""Shared fixtures: tiny timm models of every backbone family and tiny tensors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import timm
import torch

from benchmarks.engine.tensors import TensorData

TINY_SUITE = """\
name: tiny
backbones: [test_resnet]
datasets: [synth_far]
sizes: [20]
strategies: [feature_extraction]
trials: 2
seeds: [0]
pretrain: {dataset: synth_near, epochs: 1}
train: {max_epochs: 2, batch_size: 16}
"""
"""A suite that runs to the end in seconds (one cell, two trials of two epochs, one seed)."""

TWO_CELL_SUITE = """\
name: {name}
backbones: [test_resnet]
datasets: [synth_far]
sizes: [20]
strategies: [feature_extraction, partial_freeze]
trials: 2
seeds: [0, 1]
pretrain: {{dataset: synth_near, epochs: 1, batch_size: 256}}
train: {{max_epochs: 2, batch_size: 16}}
"""
"""Two cells of two trials and two final seeds each, in seconds (``.format(name=...)``)."""

FAMILIES = ["test_resnet", "test_efficientnet", "test_convnext", "test_vit"]
"""One tiny timm configuration per backbone family the strategies must support."""


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never write pretrained checkpoints into the user's real cache from a test."""
    monkeypatch.setenv("FTBENCH_CACHE", str(tmp_path / "ftbench-cache"))


def tiny_model(name: str, num_classes: int = 3, seed: int = 0) -> torch.nn.Module:
    """A randomly initialised tiny timm model."""
    torch.manual_seed(seed)
    return timm.create_model(name, pretrained=False, num_classes=num_classes)


def tiny_data(n: int = 24, num_classes: int = 3, size: int = 32, seed: int = 0) -> TensorData:
    """Random uint8 images with labels, normalised like ImageNet models."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)
    y = torch.arange(n) % num_classes
    return TensorData(x, y, x[: n // 2], y[: n // 2], (0.485, 0.456, 0.406),
                      (0.229, 0.224, 0.225))


def digest(folder: Path) -> dict[Path, str]:
    """SHA-256 of every file under ``folder``, by relative path (to show nothing changed)."""
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_suite_text(folder: Path, text: str, *args: str) -> int:
    """Write ``text`` to ``folder/tiny.yaml`` and run it into ``folder/results`` with the
    cache ``folder/cache``, without a progress bar or report; ``args`` go to ``ftbench run``.
    Returns the exit code."""
    from benchmarks.cli.commands import main

    (folder / "tiny.yaml").write_text(text)
    return main(["run", str(folder / "tiny.yaml"), "--results-dir", str(folder / "results"),
                 "--cache-dir", str(folder / "cache"), "--no-progress", "--no-report", *args])
