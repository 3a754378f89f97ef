"""Learning-rate schedule: linear warm-up then cosine decay, applied to every param group."""

from __future__ import annotations

import math

from torch.optim import Optimizer


def lr_factor(step: int, total_steps: int, warmup_steps: int) -> float:
    """Multiplier of each group's nominal LR at ``step`` (0-based) of ``total_steps``."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def apply_schedule(optimizer: Optimizer, factor: float) -> None:
    """Set ``lr = nominal_lr * factor`` on every group, including groups added mid-training."""
    for group in optimizer.param_groups:
        group["lr"] = group["nominal_lr"] * factor
