"""IDX files, the MNIST format, gzip-compressed or not: finding and validating reading.

An IDX file starts with the magic number ``0x0000 0x08 ndim`` (unsigned bytes, ``ndim``
dimensions), then ``ndim`` big-endian uint32 sizes, then the bytes of the array. MNIST-style
datasets ship four of them per folder: ``{train,t10k}-images-idx3-ubyte`` and
``{train,t10k}-labels-idx1-ubyte``, each possibly with a ``.gz`` suffix.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

_UBYTE = 0x08
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
"""The four files of an MNIST-style dataset, without the optional ``.gz`` suffix."""


def idx_file(folder: Path, base: str) -> Path | None:
    """``folder/base`` if it exists, else ``folder/base.gz`` if that does, else ``None``."""
    for path in (folder / base, folder / f"{base}.gz"):
        if path.is_file():
            return path
    return None


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The uint8 array of an IDX file with ``ndim`` dimensions (gzip-compressed if ``.gz``).

    Raises:
        ValueError: Naming the file if it cannot be read or decompressed, its magic number is
            not that of a uint8 array with ``ndim`` dimensions, or its size does not match its
            header.
    """
    raw = _read_bytes(path)
    header = 4 + 4 * ndim
    magic = (_UBYTE << 8) | ndim
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise _bad_file(path, f"the IDX magic number {magic:#010x}", f"0x{raw[:4].hex()}")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    expected = header + math.prod(dims)
    if len(raw) != expected:
        raise _bad_file(path, f"{expected} bytes for shape {dims}", f"{len(raw)} bytes")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def read_idx_split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, H, W)`` and int64 labels ``(N,)`` of split ``prefix`` ("train", "t10k").

    Raises:
        ValueError: If a file is missing, unreadable or malformed, or the counts differ.
    """
    paths = []
    for base in (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"):
        path = idx_file(folder, base)
        if path is None:
            raise _bad_file(folder / base, "an existing file (or .gz)", "none")
        paths.append(path)
    images, labels = read_idx(paths[0], 3), read_idx(paths[1], 1)
    if len(images) != len(labels):
        raise _bad_file(paths[1], f"{len(images)} labels, one per image", f"{len(labels)}")
    return images, labels.astype(np.int64)


def _read_bytes(path: Path) -> bytes:
    """All bytes of ``path``, decompressed if it ends in ``.gz``."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as file:
                return file.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise _bad_file(
            path, "a complete, readable file", f"{type(err).__name__} ({err})"
        ) from err


def _bad_file(path: Path, condition: str, got: str) -> ValueError:
    return ValueError(
        f"IDX file '{path}': {condition} must hold, but got {got}. Replace the file with an "
        f"intact copy (or delete it and pass download: true on a machine with internet)."
    )
