"""In-memory tensors and a shuffled batch iterator with no per-sample Python."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Prepare = Callable[[torch.Tensor], torch.Tensor]
"""Turns a stored batch (uint8 images or cached features) into model input on its device."""


@dataclass(frozen=True)
class TensorData:
    """uint8 train/val images of one cell plus the backbone's normalisation."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, H, W) -> float32 normalised with the backbone's mean and std."""
        mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
        return (x.float() / 255.0 - mean) / std


Augmentation = Callable[[torch.Tensor, torch.Tensor, torch.Generator],
                        tuple[torch.Tensor, torch.Tensor]]
"""A batch augmentation of uint8 images and labels (:class:`benchmarks.engine.augment.Augment`)."""


class Batches:
    """Iterates shuffled training batches on ``device`` (a new order every pass).

    Batches are gathered where the stored tensors live (:mod:`benchmarks.engine.placement`
    decides): on the device, nothing crosses the bus per step.

    With ``augment``, every batch of stored images is augmented on the device before
    ``prepare``; its randomness comes from its own seeded generator, so the sample order of a
    seed is the same with and without augmentation.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int,
                 device: torch.device, seed: int, prepare: Prepare,
                 augment: Augmentation | None = None) -> None:
        self.batch_size = max(1, min(batch_size, len(y)))
        self.device = device
        self.prepare = prepare
        self.augment = augment
        self.generator = torch.Generator().manual_seed(seed)
        self.augment_generator = torch.Generator().manual_seed(seed + 1_000_003)
        # x is placed by benchmarks.engine.placement, or stored outputs on the device; the
        # labels follow it (features cached on the device while the images stayed on the
        # host), so that one index serves both
        self.x = x
        self.y = y.to(x.device)

    @property
    def steps_per_epoch(self) -> int:
        """Number of batches per epoch (a last batch of one sample is dropped: BatchNorm)."""
        full, rest = divmod(len(self.y), self.batch_size)
        return full + (1 if rest >= 2 else 0)

    def __iter__(self):
        order = torch.randperm(len(self.y), generator=self.generator).to(self.x.device)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            if len(idx) < 2:
                continue
            x = self._to_device(self.x[idx])
            y = self._to_device(self.y[idx])
            if self.augment is not None:
                x, y = self.augment(x, y, self.augment_generator)
            yield self.prepare(x), y

    def _to_device(self, batch: torch.Tensor) -> torch.Tensor:
        """A gathered batch on the training device: as it is when the stored tensors live
        there, else copied asynchronously from page-locked memory (CUDA)."""
        if not batch.is_cpu or self.device.type == "cpu":
            return batch.to(self.device)
        if self.device.type == "cuda":
            batch = batch.pin_memory()
        return batch.to(self.device, non_blocking=True)
