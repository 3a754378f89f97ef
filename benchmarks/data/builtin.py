"""The built-in offline datasets (all 32x32 RGB uint8), registered on import:

* ``synth_source`` (family "source"): 64 glyph classes, the pretraining task.
* ``synth_near`` (family "near"): 10 new glyph classes, distinct from every source class.
* ``synth_far`` (family "far"): 10 texture classes, a different visual family.
* ``digits`` (family "far"): scikit-learn's 1,797 handwritten 8x8 digits, upsampled.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.data import synthetic
from benchmarks.data.registry import ImageSet, TaskData, register_dataset
from benchmarks.data.synthetic_classes import (
    GlyphClass,
    TextureClass,
    sample_glyph_classes,
    sample_texture_classes,
)


def _synthetic_task(
    name: str,
    family: str,
    classes: tuple[GlyphClass, ...] | tuple[TextureClass, ...],
    seed: int,
    sizes: tuple[int, int],
    image_size: int,
) -> TaskData:
    """Generate the training pool (stream 0) and test split (stream 1) of synthetic classes."""
    train, test = (
        ImageSet(*synthetic.generate(classes, n, seed, stream=stream, image_size=image_size))
        for stream, n in enumerate(sizes)
    )
    names = tuple(f"{i:02d}_{c.name}" for i, c in enumerate(classes))
    return TaskData(name, family, names, train, test)


def build_glyphs(
    name: str,
    family: str,
    *,
    seed: int,
    n_classes: int,
    train_per_class: int,
    test_per_class: int,
    image_size: int,
    avoid_seed: int = -1,
    avoid_classes: int = 0,
) -> TaskData:
    """Glyph task; classes differ from the ``avoid_classes`` drawn with ``avoid_seed``."""
    avoid = sample_glyph_classes(avoid_classes, avoid_seed) if avoid_classes else ()
    classes = sample_glyph_classes(n_classes, seed, avoid=avoid)
    sizes = (train_per_class, test_per_class)
    return _synthetic_task(name, family, classes, seed, sizes, image_size)


def build_textures(
    name: str,
    family: str,
    *,
    seed: int,
    n_classes: int,
    train_per_class: int,
    test_per_class: int,
    image_size: int,
) -> TaskData:
    """Texture task with ``n_classes`` distinct periodic patterns."""
    classes = sample_texture_classes(n_classes, seed)
    sizes = (train_per_class, test_per_class)
    return _synthetic_task(name, family, classes, seed, sizes, image_size)


def build_digits(
    name: str, family: str, *, test_fraction: float, split_seed: int, image_size: int
) -> TaskData:
    """scikit-learn's 8x8 digits: 0..16 rescaled to uint8, bilinear-upsampled, 3 channels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    pixels = torch.from_numpy(digits.images.astype(np.float32) * (255.0 / 16.0))[:, None]
    pixels = torch.nn.functional.interpolate(
        pixels, size=(image_size, image_size), mode="bilinear", align_corners=False
    )
    images = pixels.round().clamp(0, 255).to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    labels = torch.from_numpy(digits.target.astype(np.int64))
    train_idx, test_idx = (
        torch.from_numpy(np.sort(idx))
        for idx in train_test_split(
            np.arange(len(labels)),
            test_size=test_fraction,
            stratify=digits.target,
            random_state=split_seed,
        )
    )
    train = ImageSet(images[train_idx].contiguous(), labels[train_idx])
    test = ImageSet(images[test_idx].contiguous(), labels[test_idx])
    return TaskData(name, family, tuple(str(c) for c in digits.target_names), train, test)


_IMAGE_SIZE = 32
_SOURCE = {"seed": 0, "n_classes": 64}  # synth_near's classes must differ from these
register_dataset(
    "synth_source", "source", build_glyphs,
    **_SOURCE, train_per_class=300, test_per_class=50, image_size=_IMAGE_SIZE,
)  # fmt: skip
register_dataset(
    "synth_near", "near", build_glyphs,
    seed=1, n_classes=10, train_per_class=400, test_per_class=100, image_size=_IMAGE_SIZE,
    avoid_seed=_SOURCE["seed"], avoid_classes=_SOURCE["n_classes"],
)  # fmt: skip
register_dataset(
    "synth_far", "far", build_textures,
    seed=2, n_classes=10, train_per_class=400, test_per_class=100, image_size=_IMAGE_SIZE,
)  # fmt: skip
register_dataset(
    "digits", "far", build_digits, test_fraction=0.3, split_seed=0, image_size=_IMAGE_SIZE
)
