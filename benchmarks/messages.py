"""Pieces of the one-line error messages: an exception's first line, a URL without secrets,
the closest valid names."""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit


def first_line(exc: BaseException, limit: int | None = None) -> str:
    """The first line of ``exc``'s message (its type's name when empty), cut to ``limit``."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return line if limit is None else line[:limit]


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (storage and tracking URLs)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def did_you_mean(value: object, valid: Iterable[str], n: int = 3) -> str:
    """`` Did you mean: a, b?`` naming the valid names closest to ``value`` (``""`` if none)."""
    close = difflib.get_close_matches(str(value), list(valid), n=n)
    return f" Did you mean: {', '.join(close)}?" if close else ""


_DISK_FULL = ("no space left on device", "database or disk is full", "disk is full")


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an exception it was raised from, says the disk is full (``ENOSPC``,
    or SQLite's "database or disk is full" inside an MLflow or Optuna error)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if any(m in str(exc).lower() for m in _DISK_FULL):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
