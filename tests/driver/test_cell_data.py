"""A cell's tensors are gathered and placed once for all the trainings that use them."""

from __future__ import annotations

import torch

from benchmarks.driver.cell_data import CellData
from benchmarks.engine.tensors import TensorData


def _builder(calls: list[int], n: int = 6):
    def build() -> TensorData:
        calls.append(n)
        x = torch.full((n, 3, 4, 4), len(calls), dtype=torch.uint8)
        y = torch.arange(n) % 2
        return TensorData(x[:4], y[:4], x[4:], y[4:], (0.5,) * 3, (0.5,) * 3)
    return build


def test_the_same_images_are_built_once_and_other_images_replace_them():
    cache, calls = CellData(), []
    first = cache.tensors(("b", "d", 20), _builder(calls), "cpu")
    again = cache.tensors(("b", "d", 20), _builder(calls), "cpu")
    assert calls == [6] and again is first
    other = cache.tensors(("b", "d", 40), _builder(calls, 8), "cpu")
    assert calls == [6, 8] and len(other.y_train) + len(other.y_val) == 8
    assert cache.key == ("b", "d", 40) and cache.data is other
    back = cache.tensors(("b", "d", 20), _builder(calls), "cpu")
    assert calls == [6, 8, 6] and int(back.x_train[0, 0, 0, 0]) == 3  # built anew
