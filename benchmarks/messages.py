"""Pieces of the one-line error messages: an exception's first line, a URL without secrets."""

from __future__ import annotations

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
