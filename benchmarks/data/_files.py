"""State of data files on disk: a fast fingerprint from relative paths, sizes and mtimes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path


def files_fingerprint(paths: Sequence[Path]) -> str:
    """Short hash of every file under ``paths`` (files or folders, walked recursively).

    Reads no contents: a file's relative path, size and modification time stand for it, so
    replacing, touching, adding or removing a file changes the hash. A missing path hashes as
    missing.
    """
    digest = hashlib.sha256()
    for top in paths:
        digest.update(f"{top}\0".encode())
        for entry in _entries(Path(top)):
            digest.update(f"{entry}\n".encode())
    return digest.hexdigest()[:12]


def _entries(top: Path) -> Iterator[str]:
    """``relative path, size, mtime_ns`` of each file under ``top``, in sorted order."""
    if top.is_file():
        stat = top.stat()
        yield f"{top.name}\0{stat.st_size}\0{stat.st_mtime_ns}"
        return
    if not top.is_dir():
        yield "<missing>"
        return
    for folder, dirs, files in os.walk(top):
        dirs.sort()
        for file in sorted(files):
            stat = os.stat(os.path.join(folder, file))
            relative = os.path.relpath(os.path.join(folder, file), top)
            yield f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}"
