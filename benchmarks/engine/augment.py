"""Named training augmentations applied to a whole batch of uint8 image tensors at once.

Every augmentation is deterministic given the ``torch.Generator`` passed to each call (seeded
by the trainer), and none loops over samples in Python:

* ``none``: returns the batch unchanged.
* ``flip_crop``: per-sample random horizontal flip and pad-and-crop (CIFAR style, reflect
  padding of ``crop_padding`` x the shorter side). Each sample draws its own flip and offsets;
  both become one row index map and one column index map, applied with two ``gather`` calls,
  so pixels are copied exactly (no interpolation) and stay uint8.
* ``randaugment``: ``torchvision.transforms.v2.RandAugment``. On a batched tensor it applies
  the same ops to the whole batch, so the batch is cut into chunks of ``randaugment_chunk``
  samples that draw their ops independently. Trade-off: samples of one chunk share their ops
  (less diversity than per-sample RandAugment) for one Python iteration per chunk, not per
  sample.
* ``mixup`` / ``cutmix``: ``torchvision.transforms.v2.MixUp`` / ``CutMix``: one mixing
  coefficient per batch, each sample paired with its neighbour in the (already shuffled)
  batch. Images come back as float32 on the uint8 scale (0-255), so the trainer normalises
  them exactly like uint8 images; labels come back as soft targets ``(N, C)`` summing to 1.

The torchvision transforms draw from torch's global CPU generator; they run inside
``torch.random.fork_rng`` seeded from the call's generator, so global state is left untouched.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torchvision.transforms import v2

from benchmarks.messages import did_you_mean

AUGMENTATIONS = ("none", "flip_crop", "randaugment", "mixup", "cutmix")


def _require(what: str, name: str, condition: str, ok: bool, value: object, fix: str) -> None:
    """Raise the project's ``ValueError`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{what} '{name}': {condition} must hold, but got {value!r}. {fix}.")


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentation a trial trains with, and its parameters.

    Attributes:
        name: One of ``AUGMENTATIONS``.
        flip_p: Probability of flipping each sample horizontally (``flip_crop``).
        crop_padding: Reflect padding before the random crop, as a fraction of the shorter
            image side (0.125 = 4 pixels at 32x32, the CIFAR recipe; 0 = flip only).
        randaugment_num_ops: Ops applied in sequence (``randaugment``).
        randaugment_magnitude: Magnitude bin of every op, 0 to 30.
        randaugment_chunk: Samples that share one draw of ops.
        mixup_alpha: Beta(alpha, alpha) parameter of the MixUp coefficient.
        cutmix_alpha: Beta(alpha, alpha) parameter of the CutMix box area.
    """

    name: str = "none"
    flip_p: float = 0.5
    crop_padding: float = 0.125
    randaugment_num_ops: int = 2
    randaugment_magnitude: int = 9
    randaugment_chunk: int = 16
    mixup_alpha: float = 0.2
    cutmix_alpha: float = 1.0

    def __post_init__(self) -> None:
        hint = did_you_mean(self.name, AUGMENTATIONS, n=2)
        fix = f"{hint} Valid names: {', '.join(AUGMENTATIONS)}".strip()
        _require("Augmentation", str(self.name), "a known name", self.name in AUGMENTATIONS,
                 self.name, fix)  # fmt: skip
        checks = [
            ("flip_p", 0 <= self.flip_p <= 1, "0 <= flip_p <= 1", "Use e.g. 0.5"),
            ("crop_padding", 0 <= self.crop_padding < 1, "0 <= crop_padding < 1", "Use 0.125"),
            ("randaugment_num_ops", self.randaugment_num_ops >= 0, "num_ops >= 0", "Use 2"),
            ("randaugment_magnitude", 0 <= self.randaugment_magnitude <= 30,
             "0 <= magnitude <= 30", "Use 9"),
            ("randaugment_chunk", self.randaugment_chunk >= 1, "chunk >= 1", "Use 16"),
            ("mixup_alpha", self.mixup_alpha > 0, "alpha > 0", "Use 0.2"),
            ("cutmix_alpha", self.cutmix_alpha > 0, "alpha > 0", "Use 1.0"),
        ]  # fmt: skip
        for field, ok, condition, fix in checks:
            _require("Augment parameter", field, condition, ok, getattr(self, field), fix)


class Augment(ABC):
    """A batch augmentation; what it does to images and labels tells the trainer what it may do.

    Attributes:
        mixes_labels: True if labels come back as soft targets ``(N, C)`` (the loss must take
            them) and images as float32 on the 0-255 scale.
        touches_images: False only for ``none``: cached backbone features stay valid.
    """

    mixes_labels: bool = False
    touches_images: bool = True

    @abstractmethod
    def _apply(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Augment a checked batch."""

    def __call__(
        self, images_uint8: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Augment a whole batch at once.

        Args:
            images_uint8: Images ``(N, 3, H, W)``, uint8.
            labels: Class indices ``(N,)``, int64.
            generator: Source of all randomness (on the CPU or on the images' device).

        Returns:
            Images (uint8, or float32 on the 0-255 scale if ``mixes_labels``) and labels
            (int64 ``(N,)``, or float32 soft targets ``(N, C)`` if ``mixes_labels``).

        Raises:
            ValueError: If the images or labels have the wrong shape or dtype.
        """
        shape, dtype = tuple(images_uint8.shape), images_uint8.dtype
        ok = images_uint8.ndim == 4 and shape[1] == 3 and dtype == torch.uint8
        _require("Augment input", "images_uint8", "uint8 of shape (N, 3, H, W)", ok,
                 f"{dtype} {shape}",
                 "Pass the stored uint8 images before normalising")  # fmt: skip
        ok = labels.shape == shape[:1] and labels.dtype == torch.int64
        _require("Augment input", "labels", "int64 of shape (N,)", ok,
                 f"{labels.dtype} {tuple(labels.shape)}", "Pass class indices")  # fmt: skip
        return self._apply(images_uint8, labels, generator)


class _Identity(Augment):
    """``none``: the batch unchanged."""

    touches_images = False

    def _apply(self, images, labels, generator):
        return images, labels


def _draws(generator: torch.Generator, n: int, pad: int) -> tuple[torch.Tensor, ...]:
    """Per-sample vertical and horizontal offsets in ``[-pad, pad]`` and uniforms ``[0, 1)``."""
    device = generator.device
    dy = torch.randint(-pad, pad + 1, (n, 1), generator=generator, device=device)
    dx = torch.randint(-pad, pad + 1, (n, 1), generator=generator, device=device)
    return dy, dx, torch.rand(n, 1, generator=generator, device=device)


def _reflect(index: torch.Tensor, size: int) -> torch.Tensor:
    """Reflect indices in ``[-(size - 1), 2 * (size - 1)]`` into ``[0, size)`` (the edge is
    not repeated)."""
    return (size - 1) - ((size - 1) - index.abs()).abs()


class _FlipCrop(Augment):
    """``flip_crop``: per-sample horizontal flip and reflect-padded random crop."""

    def __init__(self, flip_p: float, crop_padding: float) -> None:
        self.flip_p = flip_p
        self.crop_padding = crop_padding

    def _apply(self, images, labels, generator):
        n, c, h, w = images.shape
        pad = min(round(self.crop_padding * min(h, w)), min(h, w) - 1)
        dy, dx, u = (t.to(images.device) for t in _draws(generator, n, pad))
        rows = _reflect(torch.arange(h, device=images.device) + dy, h)  # (N, H)
        cols = _reflect(torch.arange(w, device=images.device) + dx, w)  # (N, W)
        cols = torch.where(u < self.flip_p, cols.flip(1), cols)
        out = images.gather(2, rows[:, None, :, None].expand(n, c, h, w))
        return out.gather(3, cols[:, None, None, :].expand(n, c, h, w)), labels


def _seed(generator: torch.Generator) -> int:
    """A seed for torch's global generator, drawn from ``generator``."""
    return int(torch.randint(2**62, (1,), generator=generator, device=generator.device))


class _RandAugment(Augment):
    """``randaugment``: torchvision's RandAugment, ops drawn once per chunk of samples."""

    def __init__(self, num_ops: int, magnitude: int, chunk: int) -> None:
        self.transform = v2.RandAugment(num_ops=num_ops, magnitude=magnitude)
        self.chunk = chunk

    def _apply(self, images, labels, generator):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed(generator))
            return torch.cat([self.transform(part) for part in images.split(self.chunk)]), labels


class _Mix(Augment):
    """``mixup`` / ``cutmix``: torchvision's batch mixing, with soft targets."""

    mixes_labels = True

    def __init__(self, transform: v2.Transform) -> None:
        self.transform = transform

    def _apply(self, images, labels, generator):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed(generator))
            return self.transform(images.float(), labels)


def make_augment(cfg: AugmentConfig, num_classes: int) -> Augment:
    """The augmentation ``cfg`` names, for a task with ``num_classes`` classes.

    Raises:
        ValueError: If ``num_classes < 1`` (an unknown name fails in ``AugmentConfig``).
    """
    _require("Augment parameter", "num_classes", "num_classes >= 1", num_classes >= 1,
             num_classes, "Pass the task's number of classes")  # fmt: skip
    if cfg.name == "flip_crop":
        return _FlipCrop(cfg.flip_p, cfg.crop_padding)
    if cfg.name == "randaugment":
        ra = cfg.randaugment_num_ops, cfg.randaugment_magnitude, cfg.randaugment_chunk
        return _RandAugment(*ra)
    if cfg.name == "mixup":
        return _Mix(v2.MixUp(alpha=cfg.mixup_alpha, num_classes=num_classes))
    if cfg.name == "cutmix":
        return _Mix(v2.CutMix(alpha=cfg.cutmix_alpha, num_classes=num_classes))
    return _Identity()
