"""Where a training run's images live: on its device when they fit, else on the host.

This is the one place that decides. On a GPU, images on the device mean that a batch is
gathered, converted, normalised and augmented there, and nothing crosses the bus per step;
images on the host are gathered there and copied per batch. The training loop does not
branch on the answer: :class:`benchmarks.engine.tensors.Batches` indexes whatever it is given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch

from benchmarks.engine.tensors import TensorData

DEVICE_SHARE = 0.5
"""The largest share of the device's free memory that a trial's images may take: the rest
is for the model, its activations and other trials sharing the device."""

FreeBytes = Callable[[torch.device], int]
"""Free memory of a device in bytes (``torch.cuda.mem_get_info`` on CUDA)."""


@dataclass(frozen=True)
class Placement:
    """A trial's training and validation data and where they live.

    Attributes:
        data: the tensors, on ``device`` or on the host.
        on_device: True when the images are on the training device (always on a CPU).
        data_mb: MiB of images and labels.
        reason: why the data stayed on the host ("" when on the device).
    """

    data: TensorData
    on_device: bool
    data_mb: float
    reason: str = ""


def _tensors(data: TensorData) -> tuple[torch.Tensor, ...]:
    """The training and validation images and labels."""
    return data.x_train, data.y_train, data.x_val, data.y_val


def data_bytes(data: TensorData) -> int:
    """Bytes of the training and validation tensors."""
    return sum(t.numel() * t.element_size() for t in _tensors(data))


def cuda_free_bytes(device: torch.device) -> int:
    """Free memory of a CUDA device, in bytes."""
    return torch.cuda.mem_get_info(device)[0]


def host_reason(n_bytes: int, free: int, device: torch.device | str) -> str:
    """Why ``n_bytes`` of images stay on the host of a device with ``free`` bytes free; ""
    when they take at most :data:`DEVICE_SHARE` of it (or the device is a CPU)."""
    if torch.device(device).type == "cpu" or n_bytes <= DEVICE_SHARE * free:
        return ""
    return (f"{n_bytes / 2**20:,.0f} MiB of images > {DEVICE_SHARE:.0%} of the "
            f"{free / 2**20:,.0f} MiB free on {device}")


def place(data: TensorData, device: torch.device | str,
          free_bytes: FreeBytes = cuda_free_bytes) -> Placement:
    """Move ``data`` to ``device`` when it takes at most ``DEVICE_SHARE`` of its free memory.

    On a CPU the data is already where training runs. On an accelerator that is short of
    memory the data stays on the host as it is: each batch is gathered there into new memory
    (an index, not a slice), and :class:`~benchmarks.engine.tensors.Batches` pins that batch
    for its asynchronous copy, so pinning the whole tensors would only lock host memory (GBs
    per worker) without speeding a copy.
    """
    device = torch.device(device)
    size = data_bytes(data)
    mb = size / 2**20
    if device.type == "cpu" or not any(t.is_cpu for t in _tensors(data)):
        return Placement(data, True, mb)  # on the CPU, or already placed on the device
    reason = host_reason(size, free_bytes(device), device)
    if reason:
        return Placement(data, False, mb, reason)
    return Placement(_moved(data, lambda t: t.to(device, non_blocking=True)), True, mb)


def plan_placement(cell_bytes: dict[str, int], device: torch.device | str, workers: int = 1,
                   free_bytes: FreeBytes = cuda_free_bytes) -> dict[str, object]:
    """Where each cell's images will live, as far as the start of a run can tell: the rule of
    :func:`place` with the device's free memory now shared by ``workers`` processes.

    Returns:
        ``device``, ``free_mb`` (None on a CPU), ``workers`` and ``on_host``: cell key ->
        reason, for the cells whose images will stay on the host (empty when all fit).
    """
    device = torch.device(device)
    if device.type == "cpu":
        return {"device": str(device), "free_mb": None, "workers": workers, "on_host": {}}
    share = free_bytes(device) // max(1, workers)
    on_host = {key: reason for key, n in cell_bytes.items()
               if (reason := host_reason(n, share, device))}
    return {"device": str(device), "free_mb": round(share * workers / 2**20), "workers": workers,
            "on_host": on_host}


def _moved(data: TensorData, move: Callable[[torch.Tensor], torch.Tensor]) -> TensorData:
    """``data`` with every tensor passed through ``move``."""
    return dataclasses.replace(data, x_train=move(data.x_train), y_train=move(data.y_train),
                               x_val=move(data.x_val), y_val=move(data.y_val))
