"""Where a trial's images live (benchmarks.engine.placement) and the loop's loss reads."""

from __future__ import annotations

import pytest
import torch

from benchmarks.engine.placement import (
    DEVICE_SHARE,
    data_bytes,
    host_reason,
    place,
    plan_placement,
)
from benchmarks.engine.tensors import Batches, TensorData
from benchmarks.engine.training import TrainingDiverged, _check_finite, check_every
from report.provenance import placement_fact

MiB = 2**20


def _data(n: int = 10, size: int = 8) -> TensorData:
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 3, size, size), generator=gen, dtype=torch.uint8)
    y = torch.arange(n) % 2
    return TensorData(x[:6], y[:6], x[6:], y[6:], (0.5,) * 3, (0.5,) * 3)


def test_on_a_cpu_the_data_is_already_on_the_device():
    data = _data()
    placed = place(data, "cpu", free_bytes=lambda d: pytest.fail("no free memory on a CPU"))
    assert placed.on_device and placed.reason == "" and placed.data.x_train is data.x_train
    assert placed.data_mb == pytest.approx(data_bytes(data) / MiB)
    assert data_bytes(data) == 10 * 3 * 8 * 8 + 10 * 8  # uint8 images, int64 labels


def test_images_over_the_share_of_free_memory_stay_on_the_host():
    assert host_reason(100 * MiB, int(100 * MiB / DEVICE_SHARE), "cuda") == ""
    reason = host_reason(100 * MiB + 1, int(100 * MiB / DEVICE_SHARE), "cuda")
    assert reason == "100 MiB of images > 50% of the 200 MiB free on cuda"
    assert host_reason(10**12, 0, "cpu") == ""


def test_images_kept_on_the_host_stay_as_they_are():
    # Batches gathers each batch into new memory and pins that; pinning the whole tensors
    # would lock host memory without speeding any copy (and needs CUDA: this runs anywhere)
    data = _data()
    kept = place(data, "cuda", free_bytes=lambda d: 0)
    assert not kept.on_device and kept.data is data
    assert kept.reason == "0 MiB of images > 50% of the 0 MiB free on cuda"


def test_the_plan_shares_free_memory_between_workers():
    cells = {"small": 10 * MiB, "big": 60 * MiB}
    alone = plan_placement(cells, "cuda", 1, free_bytes=lambda d: 200 * MiB)
    assert alone == {"device": "cuda", "free_mb": 200, "workers": 1, "on_host": {}}
    four = plan_placement(cells, "cuda", 4, free_bytes=lambda d: 200 * MiB)
    assert list(four["on_host"]) == ["big"] and "50 MiB free on cuda" in four["on_host"]["big"]
    assert plan_placement(cells, "cpu", 4)["on_host"] == {}


def test_the_report_says_where_the_images_lived():
    assert placement_fact(None) == "" and placement_fact(
        {"device": "cpu", "free_mb": None, "workers": 1, "on_host": {}}) == ""
    fit = placement_fact({"device": "cuda", "free_mb": 140000, "workers": 4, "on_host": {}})
    assert fit == "images on the device: every cell's (cuda, 140,000 MiB free at the start, " \
                  "4 worker(s))"
    host = placement_fact({"device": "cuda", "free_mb": 100, "workers": 1,
                           "on_host": {"a/b/n20000/full_finetune": "x MiB > y"}})
    assert host.startswith("images on the host, copied per batch, for 1 cell(s)")
    assert "a/b/n20000/full_finetune (x MiB > y)" in host


def test_batches_gather_where_the_images_live_in_the_same_order():
    data = _data()
    stored = Batches(data.x_train, data.y_train, 4, torch.device("cpu"), 3, data.normalise)
    again = Batches(data.x_train.clone(), data.y_train, 4, torch.device("cpu"), 3,
                    data.normalise)
    for (x1, y1), (x2, y2) in zip(stored, again, strict=True):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_the_summed_loss_is_read_every_step_on_a_cpu_and_every_25_elsewhere():
    assert check_every(torch.device("cpu")) == 1
    assert check_every(torch.device("cuda")) == 25 and check_every("mps") == 25
    assert _check_finite(torch.tensor(3.5, dtype=torch.float64), 0, 1) == 3.5
    with pytest.raises(TrainingDiverged, match="became nan at step 4$"):
        _check_finite(torch.tensor(float("nan")), 4, 1)
    with pytest.raises(TrainingDiverged, match="became inf within the 25 steps up to 49"):
        _check_finite(torch.tensor(float("inf")), 49, 25)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_the_images_move_there_when_they_fit():
    placed = place(_data(), "cuda")
    assert placed.on_device and placed.data.x_train.is_cuda and placed.data.y_val.is_cuda


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_batches_of_device_outputs_take_host_labels_along():
    data = _data()  # features cached on the device, labels left on the host
    batches = Batches(data.x_train.float().cuda(), data.y_train, 4, torch.device("cuda"), 3,
                      lambda x: x)
    for x, y in batches:
        assert x.is_cuda and y.is_cuda and len(x) == len(y)
