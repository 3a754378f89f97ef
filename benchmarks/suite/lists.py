"""The list-valued suite keys (datasets, backbones, sizes, epochs_by_size, strategies, seeds),
read item by item so that an error names the line of the item that fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.data import SizeSpec
from benchmarks.data.ref import parse_dataset, parse_sizes
from benchmarks.models.ref import parse_backbone
from benchmarks.suite.rules import Where, seed_rule
from benchmarks.suite.yaml_lines import KeyPath

_ENTRIES = {"datasets": (parse_dataset, "[synth_far, {name: imagefolder, root: photos}]"),
            "backbones": (parse_backbone, "[test_resnet, 'timm:resnet50.a1_in1k']")}
"""How ``datasets`` and ``backbones`` entries are read, and an example of each list."""


def read_entries(key: str, value: Any, where: Where) -> tuple[Any, ...]:
    """``datasets`` or ``backbones``: one entry or a list, each checked at its own line."""
    parse, example = _ENTRIES[key]
    if value == []:
        raise ValueError(f"{where((key,))}: {key} must list at least one {key[:-1]}, but it is "
                         f"empty. Example: {key}: {example}.")
    refs = []
    for index, entry in enumerate(value if isinstance(value, list) else [value]):
        if key == "datasets" and isinstance(entry, dict) and isinstance(entry.get("name"), str) \
                and "sizes" in entry:
            owner = f": dataset '{entry['name']}'"
            read_sizes(entry["sizes"], (key, index, "sizes"), where, owner)
        refs.append(_parse_entry(parse, entry, (key, index), where))
    return tuple(refs)


def _parse_entry(parse: Callable[[Any, str], Any], entry: Any, path: KeyPath,
                 where: Where) -> Any:
    """One entry; an error names the line of the first key that fails alone, else the item's."""
    try:
        return parse(entry, "")
    except ValueError:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            for key in entry:
                try:
                    parse({"name": entry["name"], key: entry[key]}, "")
                except ValueError:
                    path = (*path, key)
                    break
        return parse(entry, where(path))  # raises again, now with the line


def read_sizes(value: Any, path: KeyPath, where: Where, owner: str = "") -> tuple[SizeSpec, ...]:
    """Sizes as :func:`parse_sizes` reads them, with errors at the line of the bad item."""
    seen: list[SizeSpec] = []
    for index, entry in enumerate(value if isinstance(value, list) else [value]):
        spec = parse_sizes([entry], where((*path, index)) + owner)[0]
        if spec in seen:
            path = (*path, index)  # parse_sizes below names the repeated size
            break
        seen.append(spec)
    return parse_sizes(value, where(path) + owner)


def read_epochs_by_size(value: Any, where: Where) -> dict[SizeSpec, int]:
    """``epochs_by_size``: a mapping from sizes as written in ``sizes`` to epoch budgets."""
    if not isinstance(value, dict):
        raise ValueError(  # noqa: TRY004  (bad user input is a ValueError, see STYLE.md)
            f"{where(('epochs_by_size',))}: 'epochs_by_size' must be a mapping such as "
            f"{{30: 30, '15%': 8, all: 4}}, but got {value!r}.")
    out = {}
    for key, epochs in value.items():
        at = where(("epochs_by_size", key))
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"{at}: epochs_by_size[{key!r}] must be an integer >= 1, "
                             f"but got {epochs!r}.")
        try:
            spec = SizeSpec.parse(key)
        except ValueError as exc:
            raise ValueError(f"{at}: epochs_by_size: {exc}") from None
        if spec in out:
            raise ValueError(f"{at}: epochs_by_size keys must be distinct sizes, but "
                             f"{key!r} repeats {spec.label}. Keep one of them.")
        out[spec] = epochs
    return out


_ITEMS = {"strategies": (str, "strategy", "a name", "[feature_extraction, full_finetune]"),
          "seeds": (int, "seed", "an integer", "[0, 1, 2]"),
          "seeds_within_reach": (int, "seed", "an integer", "[3, 4]")}
"""What ``strategies`` and the seed lists hold: type, noun, what an item must be, an example."""
MAY_BE_EMPTY = ("seeds_within_reach",)


def read_sequence(key: str, value: Any, where: Where) -> tuple[Any, ...]:
    """``strategies``, ``seeds`` or ``seeds_within_reach``: one item or a list of distinct
    items, non-empty but for ``seeds_within_reach``."""
    kind, noun, what, example = _ITEMS[key]
    if isinstance(value, dict) or value is None:
        raise ValueError(f"{where((key,))}: {key} must be a list, but got {value!r}. "
                         f"Example: {key}: {example}.")
    items = value if isinstance(value, list) else [value]
    if not items and key not in MAY_BE_EMPTY:
        raise ValueError(f"{where((key,))}: {key} must list at least one {noun}, but it is "
                         f"empty. Example: {key}: {example}.")
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, kind):
            raise ValueError(  # noqa: TRY004  (bad user input is a ValueError, see STYLE.md)
                f"{where((key, index))}: each {key} entry must be {what}, but got {item!r}. "
                f"Example: {key}: {example}.")
        problem = seed_rule("seed", item) if kind is int else None
        if problem:
            raise ValueError(f"{where((key, index))}: {problem}")
        if item in items[:index]:
            raise ValueError(f"{where((key, index))}: {key} must be distinct, but {item!r} "
                             "is repeated. Remove the repeated one.")
    return tuple(items)
