"""The strategy registry: register by class, look up by name, list with wildcards, plugins."""

from __future__ import annotations

import difflib
import fnmatch
from importlib.metadata import entry_points

from strategies.base import Strategy

ENTRY_POINT_GROUP = "ftbench.strategies"
"""Entry-point group through which other installed packages register strategies."""

_REGISTRY: dict[str, type[Strategy]] = {}
_plugins_loaded = False


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator that registers a strategy under ``cls.name``.

    Raises:
        ValueError: if another class already uses that name.
    """
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"strategy '{cls.name}': names must be unique, but it is already registered by "
            f"{existing.__module__}.{existing.__qualname__}. Choose another name."
        )
    _REGISTRY[cls.name] = cls
    return cls


def _load_plugins() -> None:
    """Import every strategy advertised in the ``ftbench.strategies`` entry-point group."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise TypeError(
                f"entry point '{ep.name}' ({ep.value}): it must name a Strategy subclass, "
                f"but got {cls!r}. Fix the plugin's pyproject entry point."
            )
        register_strategy(cls)


def list_strategies(pattern: str = "*") -> list[str]:
    """Registered strategy names matching a shell-style wildcard, sorted."""
    _load_plugins()
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered under ``name``.

    Raises:
        ValueError: for an unknown name, listing the valid names and the closest matches.
    """
    _load_plugins()
    if name in _REGISTRY:
        return _REGISTRY[name]
    valid = sorted(_REGISTRY)
    close = difflib.get_close_matches(name, valid, n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ValueError(
        f"strategy '{name}': it must be one of {', '.join(valid)}, but it is not registered."
        f"{hint} (`ftbench list strategies` shows them all.)"
    )
