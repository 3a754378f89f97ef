"""Safe-load YAML and remember the 1-based line of every mapping key and list item.

A key path is the tuple of keys and list indices from the top of the document:
``("train",)`` is the line of the key ``train``, ``("datasets", 1)`` the line where the
second item of ``datasets`` starts and ``("datasets", 1, "root")`` the line of its ``root``
key. Keys are the Python values YAML makes of them (``epochs_by_size: {30: 4}`` gives
``("epochs_by_size", 30)``); ``()`` is the line where the document starts.

The text is composed into a node tree once (``yaml.SafeLoader``), the tree is walked for
lines, and the same tree is constructed into Python data exactly as ``yaml.safe_load``
would. Keys merged with ``<<: *anchor`` get no line of their own (their mapping's line is
used). A key repeated in one mapping is a YAML error (YAML requires unique keys, and
``safe_load`` would silently keep the last one). The walk follows aliases and stops past
``MAX_NODES`` nodes, before any construction, so that nested aliases (a "billion laughs"
document) cannot take minutes and gigabytes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

KeyPath = tuple[Any, ...]
Lines = dict[KeyPath, int]

_MERGE = "tag:yaml.org,2002:merge"
_UNHASHABLE = object()

MAX_NODES = 10_000
"""The most nodes a document may expand to, aliases included (a suite has a few hundred)."""


class TooManyNodes(ValueError):
    """The document expands, aliases included, to more than ``MAX_NODES`` nodes."""

    def __init__(self, line: int | None) -> None:
        super().__init__(f"the YAML must expand to at most {MAX_NODES:,} nodes, but its aliases "
                         "(*name) expand to more from this key on. Write the values out, or "
                         "nest fewer aliases.")
        self.line = line


def load_with_lines(text: str) -> tuple[Any, Lines]:
    """The data of a YAML document, as ``yaml.safe_load`` gives it, and the line of each path.

    Raises:
        yaml.YAMLError: the text is not valid YAML (``problem_mark`` says where).
        TooManyNodes: it expands to more than ``MAX_NODES`` nodes (``line`` says where).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {(): 1}
        lines: Lines = {(): node.start_mark.line + 1}
        _walk(node, (), lines, frozenset(), itertools.count(1))
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def line_of(lines: Lines, path: KeyPath) -> int | None:
    """The line of ``path``, else of its deepest prefix that has one (None if none has)."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


def _walk(node: yaml.Node, path: KeyPath, lines: Lines, above: frozenset[int],
          seen: Iterator[int]) -> None:
    """Record the lines of the items and keys under ``node`` (aliases that loop are cut),
    counting the nodes visited in ``seen``."""
    if id(node) in above:
        return
    if next(seen) > MAX_NODES:
        raise TooManyNodes(line_of(lines, path[:1]))
    above = above | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, above, seen)
    elif isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = _UNHASHABLE if key_node.tag == _MERGE else _key(key_node)
            if key is _UNHASHABLE:  # counted, but no line of its own
                _walk(value_node, (*path, _UNHASHABLE), lines, above, seen)
                continue
            line = key_node.start_mark.line + 1
            if key in first:
                raise ConstructorError(
                    None, None, f"found duplicate key {key!r} (first on line {first[key]})",
                    key_node.start_mark)
            first[key] = lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, above, seen)


def _key(node: yaml.Node) -> Any:
    """The Python value of a mapping key, or ``_UNHASHABLE`` (construction then reports it)."""
    key = SafeConstructor().construct_object(node, deep=True)
    try:
        hash(key)
    except TypeError:
        return _UNHASHABLE
    return key
