"""A cell's training and validation tensors, gathered from the pool and placed once for all
the trainings that use them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.engine.placement import place
from benchmarks.engine.tensors import TensorData

DataKey = tuple[str, str, int]
"""Which images: backbone (its input size), dataset and training-set size."""


@dataclass
class CellData:
    """The tensors of the images this process trains on now, on their device.

    Every trial and final seed of a cell, and the cells of the other strategies at the same
    backbone, dataset and size (which the grid runs one after the other), train on the same
    images; they are gathered from the pool and moved to the device once (on a GPU, 3.6 GB
    for 24,000 images at 224 px), not once per training. Only the last images are kept.
    """

    key: DataKey | None = None
    data: TensorData | None = None

    def tensors(self, key: DataKey, build: Callable[[], TensorData], device: str) -> TensorData:
        """The placed tensors of ``key``, built by ``build()`` and placed on ``device`` when
        they are not the ones kept (those are dropped first, freeing their memory)."""
        if self.key != key:
            self.key, self.data = None, None
            self.data = place(build(), device).data
            self.key = key
        return self.data
