"""The training loss (``train.loss``): cross-entropy, class-weighted cross-entropy or focal
loss, for imbalanced data.

* ``cross_entropy``: the default, with ``train.label_smoothing``.
* ``weighted_cross_entropy``: each class weighted by ``n / (k * n_c)`` over the cell's
  training subset (scikit-learn's "balanced" class weights), so that every class counts
  as much in the loss whatever its share of the images.
* ``focal``: ``(1 - p_t)^gamma * CE`` (Lin et al., 2017), which lowers the weight of the
  examples the model already gets right, the majority classes' mostly.

Weighted and focal losses take hard labels, so they refuse the label-mixing augmentations
(``mixup``, ``cutmix``), whose targets are soft.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

LOSSES = ("cross_entropy", "weighted_cross_entropy", "focal")
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss(logits, targets)``: the mean loss of a batch."""


@dataclass(frozen=True)
class LossConfig:
    """Which loss a trial trains with.

    Attributes:
        name: One of :data:`LOSSES`.
        gamma: The focusing parameter of ``focal`` (0 = cross-entropy; the paper's 2).
    """

    name: str = "cross_entropy"
    gamma: float = 2.0

    def __post_init__(self) -> None:
        if self.name not in LOSSES:
            raise ValueError(f"train.loss.name: it must be one of {', '.join(LOSSES)}, but got "
                             f"{self.name!r}.")
        if not self.gamma >= 0:
            raise ValueError(f"train.loss.gamma: gamma >= 0 must hold, but got {self.gamma}. "
                             "Use e.g. 2 (the focal loss paper's).")


def class_weights(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``n / (k * n_c)`` per class over ``labels`` (a class without images weighs 0)."""
    counts = torch.bincount(labels.long().cpu(), minlength=n_classes).float()
    present = counts > 0
    weights = torch.zeros(n_classes)
    weights[present] = len(labels) / (int(present.sum()) * counts[present])
    return weights


def make_loss(cfg: LossConfig, labels: torch.Tensor, n_classes: int, label_smoothing: float,
              device: torch.device) -> Loss:
    """The loss of a trial, its class weights taken from the training ``labels``."""
    if cfg.name == "cross_entropy":
        return lambda logits, y: F.cross_entropy(logits, y, label_smoothing=label_smoothing)
    weights = class_weights(labels, n_classes).to(device)
    if cfg.name == "weighted_cross_entropy":
        return lambda logits, y: F.cross_entropy(logits, y, weight=weights,
                                                 label_smoothing=label_smoothing)
    gamma = cfg.gamma

    def focal(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(logits, y, reduction="none", label_smoothing=label_smoothing)
        p_true = torch.exp(-F.cross_entropy(logits, y, reduction="none"))
        return ((1.0 - p_true) ** gamma * ce).mean()

    return focal
