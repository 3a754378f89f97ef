"""Decoding images into uint8 ``(N, 3, H, W)`` tensors: image files, arrays, resizing."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

from benchmarks.data._modes import PixelRangeError, to_rgb8

_WORKERS = min(8, os.cpu_count() or 1)  # PIL releases the GIL while decoding
_CHUNK = 512  # images resized at once, to bound the float copy


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Antialiased bilinear resize of uint8 ``(N, 3, H, W)`` images to ``(N, 3, size, size)``."""
    if tuple(images.shape[-2:]) == (size, size):
        return images.contiguous()
    out = torch.empty((len(images), 3, size, size), dtype=torch.uint8)
    for start in range(0, len(images), _CHUNK):
        block = torch.nn.functional.interpolate(
            images[start : start + _CHUNK].float(),
            size=(size, size),
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )
        out[start : start + _CHUNK] = block.round_().clamp_(0, 255).to(torch.uint8)
    return out


def from_array(array: np.ndarray, image_size: int | None) -> torch.Tensor:
    """uint8 images ``(N, H, W)`` (gray) or ``(N, H, W, C)`` as RGB ``(N, 3, H, W)``.

    Gray images are repeated over the three channels; an alpha channel is dropped, as PIL's
    ``convert("RGB")`` does.
    """
    images = torch.from_numpy(np.require(array, np.uint8, ["C", "W"]))
    images = images[..., None] if images.ndim == 3 else images
    images = images.permute(0, 3, 1, 2)
    images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images[:, :3]
    return resize(images, image_size) if image_size else images.contiguous()


def decode_files(name: str, paths: Sequence[str], image_size: int | None) -> torch.Tensor:
    """Decode image files with PIL into one RGB uint8 ``(N, 3, H, W)`` tensor.

    Args:
        name: Dataset name, for messages.
        paths: Image files, decoded in a thread pool; the output keeps their order.
        image_size: Resize each image to this square size; ``None`` requires equal sizes.

    Raises:
        ValueError: Naming the first unreadable file, or two files of different sizes.
    """
    if not paths:
        side = image_size or 0
        return torch.empty((0, 3, side, side), dtype=torch.uint8)
    decode = functools.partial(_decode_one, name, image_size=image_size)
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        images = list(pool.map(decode, paths))
    _check_same_size(name, paths, images)
    return torch.stack(images)


def _decode_one(name: str, path: str, image_size: int | None) -> torch.Tensor:
    """One image file as RGB uint8 ``(3, H, W)`` (16-bit and float modes scaled by
    :func:`benchmarks.data._modes.to_rgb8`), resized if asked."""
    try:
        with Image.open(path) as image:
            rgb = to_rgb8(image)
    except PixelRangeError as err:
        raise ValueError(
            f"Dataset '{name}': {err} for '{path}'. Save it as an 8- or 16-bit PNG, scaled "
            f"the same way as every other image of the dataset."
        ) from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValueError(
            f"Dataset '{name}': a readable image must hold, but got {type(err).__name__} "
            f"({err}) for '{path}'. Replace or delete that file."
        ) from err
    tensor = torch.from_numpy(rgb).permute(2, 0, 1)
    return resize(tensor[None], image_size)[0] if image_size else tensor.contiguous()


def _check_same_size(name: str, paths: Sequence[str], images: list[torch.Tensor]) -> None:
    """Raise unless every image has the size of the first one."""
    first = images[0].shape[1:]
    for path, image in zip(paths, images):
        if image.shape[1:] != first:
            sizes = [f"{s[1]}x{s[0]} (WxH)" for s in (first, image.shape[1:])]
            raise ValueError(
                f"Dataset '{name}': equal image sizes must hold without image_size, but got "
                f"{sizes[0]} for '{paths[0]}' and {sizes[1]} for '{path}'. Pass image_size "
                f"(e.g. 224) to resize every image once at load time."
            )
