"""Cost facts of a backbone: parameter count, forward FLOPs per image and inference speed."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclasses.dataclass(frozen=True)
class CostFacts:
    """What running a backbone costs, measured at one input size on one device.

    Attributes:
        params: number of scalar parameters (trainable or not; shared ones counted once).
        flops: forward FLOPs for one image, as ``FlopCounterMode`` counts them: a
            multiply-add is 2 FLOPs, and only matmuls, convolutions and attention count
            (element-wise ops, norms and activations do not).
        infer_img_per_s: images per second in eval mode without gradients.
        input_size: the square image side, in pixels.
        device: where the throughput was measured, e.g. ``"cpu"`` or ``"cuda:0"``.
        batch_size: images per batch in the throughput measurement.
    """

    params: int
    flops: int
    infer_img_per_s: float
    input_size: int
    device: str
    batch_size: int

    @property
    def gflops(self) -> float:
        """Forward FLOPs per image, in units of 1e9."""
        return self.flops / 1e9

    def to_row(self) -> dict[str, int | float | str]:
        """The facts as plain values for one CSV row (``gflops`` included)."""
        return {**dataclasses.asdict(self), "gflops": self.gflops}


def cost_facts(
    model: nn.Module,
    input_size: int,
    device: str | torch.device = "cpu",
    batch_size: int = 32,
    min_time_s: float = 1.0,
) -> CostFacts:
    """Measure a model's cost on square RGB-like images of side ``input_size``.

    The channel count comes from the model's timm ``pretrained_cfg`` (3 otherwise). The
    model runs on ``device`` and is returned to its original device and train/eval mode.

    Args:
        model: a timm model or any ``nn.Module`` taking ``(N, C, H, W)`` images.
        input_size: the image side, in pixels.
        device: where to time inference.
        batch_size: images per timed batch.
        min_time_s: keep timing batches until this much time has passed.

    Raises:
        ValueError: if ``input_size``, ``batch_size`` or ``min_time_s`` is not positive.
    """
    _check_positive(input_size=input_size, batch_size=batch_size, min_time_s=min_time_s)
    device = torch.device(device)
    shape = (input_channels(model), input_size, input_size)
    with _on(model, device):
        flops = count_flops(model, torch.randn(1, *shape, device=device))
        speed = throughput(model, torch.randn(batch_size, *shape, device=device), min_time_s)
    return CostFacts(
        params=count_params(model),
        flops=flops,
        infer_img_per_s=speed,
        input_size=input_size,
        device=str(device),
        batch_size=batch_size,
    )


def count_params(model: nn.Module) -> int:
    """The number of scalar parameters, shared ones counted once."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_flops(model: nn.Module, example: torch.Tensor) -> int:
    """Forward FLOPs of ``model(example)`` in eval mode (a multiply-add counts as 2)."""
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            model(example)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())


@torch.no_grad()
def throughput(model: nn.Module, batch: torch.Tensor, min_time_s: float) -> float:
    """Images per second of ``model(batch)`` in eval mode, after one warm-up batch."""
    was_training = model.training
    model.eval()
    try:
        model(batch)
        _sync(batch.device)
        images, start = 0, time.perf_counter()
        while True:
            model(batch)
            _sync(batch.device)
            images += len(batch)
            elapsed = time.perf_counter() - start
            if elapsed >= min_time_s:
                return images / elapsed
    finally:
        model.train(was_training)


def _sync(device: torch.device) -> None:
    """Wait for queued CUDA work, so that wall-clock time covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def input_channels(model: nn.Module) -> int:
    """Input channels from a timm model's ``pretrained_cfg``; 3 for anything else."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return int(cfg.get("input_size", (3,))[0])


@contextlib.contextmanager
def _on(model: nn.Module, device: torch.device) -> Iterator[nn.Module]:
    """``model`` on ``device`` inside the block, back on its original device after."""
    first = next(model.parameters(), None)
    original = first.device if first is not None else device
    try:
        yield model.to(device)
    finally:
        model.to(original)


def _check_positive(**values: float) -> None:
    """Raise a one-line ValueError for the first value that is not positive."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(
                f"cost argument '{name}': {name} > 0 must hold, but got {value!r}. "
                "Pass a positive number."
            )
