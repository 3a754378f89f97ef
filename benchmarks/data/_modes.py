"""Pixels of any PIL image mode as 8-bit RGB, with one fixed scale per mode.

PIL's ``convert("RGB")`` clamps the modes of more than 8 bits to 255, so a 16-bit grayscale
PNG (mode ``I;16``) would decode all white. Those modes are scaled here instead, by a rule
of the mode alone, never by an image's own range: a dark and a bright scan stay dark and
bright relative to each other, as microscopy and medical images need.

* ``I;16`` (and ``I;16B``, ``I;16L``, ``I;16N``): the high byte, ``v >> 8`` (0..65535 to
  0..255), as PIL itself reads 16-bit RGB, RGBA and gray-alpha PNGs;
* ``I`` (32-bit integers, as older PIL read 16-bit PNGs): the same, for values in 0..65535;
* ``F`` (32-bit floats): ``round(255 * v)``, for values in 0..1;
* every other mode (``1``, ``L``, ``LA``, ``P``, ``PA``, ``RGB``, ``RGBA``, ``CMYK``,
  ``YCbCr``, ...): ``convert("RGB")``; an alpha channel is dropped.

``I`` and ``F`` values outside those ranges have no scale that would mean the same in every
image, so such an image is refused (:class:`PixelRangeError`) rather than guessed at.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")


class PixelRangeError(ValueError):
    """An image whose values lie outside the fixed range of its mode."""


def to_rgb8(image: Image.Image) -> np.ndarray:
    """The pixels of ``image`` as a uint8 ``(H, W, 3)`` array (scales: module docstring).

    Raises:
        PixelRangeError: an ``I`` or ``F`` image with values outside 0..65535 or 0..1 (the
            message says the condition and the values found).
    """
    if image.mode in _SIXTEEN_BIT or image.mode == "I":
        values = np.asarray(image).astype(np.int64)
        _check_range(values, 0, 65535, image.mode, "16-bit values, read as their high byte")
        gray = (values >> 8).astype(np.uint8)
    elif image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        _check_range(values, 0.0, 1.0, image.mode, "floats, read as 255 * value")
        gray = np.rint(values * 255).astype(np.uint8)
    else:
        return np.asarray(image.convert("RGB")).copy()
    return np.repeat(gray[..., None], 3, axis=2)


def _check_range(values: np.ndarray, low: float, high: float, mode: str, rule: str) -> None:
    """Raise :class:`PixelRangeError` unless every value is finite and in ``[low, high]``."""
    if values.size == 0 or (np.isfinite(values).all() and low <= values.min()
                            and values.max() <= high):
        return
    finite = values[np.isfinite(values)]
    found = f"{finite.min():g}..{finite.max():g}" if finite.size else "no finite value"
    if finite.size < values.size:
        found += " and not-a-number or infinite values"
    raise PixelRangeError(f"pixel values in {low:g}..{high:g} ({rule}) must hold for PIL mode "
                          f"{mode}, but got {found}")
