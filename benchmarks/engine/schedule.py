"""Learning-rate schedule: linear warm-up, then cosine decay over the rest of the run, or
cosine annealing with warm restarts (SGDR: cycles of ``restart_steps``, each ``restart_mult``
times longer than the one before, as the tutorials' T_0=5, T_mult=2), applied to every param
group through its nominal LR."""

from __future__ import annotations

import math

from torch.optim import Optimizer

SCHEDULES = ("cosine", "cosine_restarts")


def lr_factor(step: int, total_steps: int, warmup_steps: int, restart_steps: int = 0,
              restart_mult: int = 1) -> float:
    """Multiplier of each group's nominal LR at ``step`` (0-based) of ``total_steps``.

    With ``restart_steps`` > 0 the cosine restarts every cycle (the first ``restart_steps``
    long, each next ``restart_mult`` times longer), as torch's CosineAnnealingWarmRestarts;
    else one cosine spans the steps after the warm-up.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if restart_steps > 0:
        position, cycle = step - warmup_steps, restart_steps
        while position >= cycle:
            position -= cycle
            cycle *= restart_mult
        return 0.5 * (1.0 + math.cos(math.pi * position / cycle))
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def apply_schedule(optimizer: Optimizer, factor: float) -> None:
    """Set ``lr = nominal_lr * factor`` on every group, including groups added mid-training."""
    for group in optimizer.param_groups:
        group["lr"] = group["nominal_lr"] * factor
