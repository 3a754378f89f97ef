"""Mixed precision and memory format of a training run: autocast, gradient scaling,
channels-last."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_SUPPORTED = {"cuda": ("fp32", "bf16", "fp16"), "cpu": ("fp32", "bf16"), "mps": ("fp32",)}


@dataclass(frozen=True)
class Precision:
    """How the forward pass runs and how gradients are scaled on one device.

    Attributes:
        device_type: ``cuda``, ``cpu`` or ``mps``.
        dtype: autocast dtype, or None for fp32.
        scaler: a gradient scaler for fp16 (None otherwise).
    """

    device_type: str
    dtype: torch.dtype | None
    scaler: torch.amp.GradScaler | None

    def autocast(self) -> contextlib.AbstractContextManager:
        """The autocast context of the forward pass (a no-op in fp32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """``loss.backward()``, scaled for fp16, with gradients unscaled before clipping."""
        if self.scaler is None:
            loss.backward()
            return
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()``, through the scaler for fp16 (skips steps with inf grads)."""
        if self.scaler is None:
            optimizer.step()
            return
        self.scaler.step(optimizer)
        self.scaler.update()


def make_precision(precision: str, device: torch.device) -> Precision:
    """The :class:`Precision` of ``precision`` (``fp32``, ``bf16``, ``fp16``) on ``device``.

    Raises:
        ValueError: if the device does not support that precision here.
    """
    device = torch.device(device)
    allowed = _SUPPORTED.get(device.type, ("fp32",))
    if precision not in allowed:
        raise ValueError(f"train.precision '{precision}': it must be one of {', '.join(allowed)} "
                         f"on device '{device}', but it is not. Use fp32 there, or bf16/fp16 "
                         "on a CUDA device.")
    dtype = _DTYPES.get(precision)
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    return Precision(device.type, dtype, scaler)


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """An image batch in channels-last memory format (other tensors unchanged)."""
    return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x
