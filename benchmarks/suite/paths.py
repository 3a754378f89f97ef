"""Paths in a suite file are relative to the file's folder: resolved when the file is loaded.

The path-valued entries are a dataset's ``root`` (``datasets`` and ``pretrain``'s
``dataset_options``) and a backbone's checkpoint file (``weights``). ``~`` is the home folder,
an absolute path stays as it is, and a relative one is joined to the suite file's folder, so
that ``Suite.to_dict()`` (the results folder's ``suite.yaml``) holds absolute paths.

A path that starts with ``$FTBENCH_DATA`` (or ``${FTBENCH_DATA}``) starts in the data folder
(:func:`benchmarks.data.options.default_root`: ``$FTBENCH_DATA``, else
``~/.cache/ftbench/data``), in built-in suites too, so a suite can name files under the same
folder the registered datasets read by default.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

from benchmarks.data.options import default_root
from benchmarks.data.ref import DatasetRef
from benchmarks.models.ref import BackboneRef

DATA_VARIABLE = re.compile(r"^\$(FTBENCH_DATA\b|\{FTBENCH_DATA\})")
"""A leading ``$FTBENCH_DATA`` or ``${FTBENCH_DATA}``."""

PATH_OPTIONS = ("root",)
"""Dataset options that name a file or folder."""


def resolve_path(path: str, folder: Path | None) -> str:
    """``path`` with ``$FTBENCH_DATA`` and ``~`` expanded and, if relative, joined to
    ``folder`` (normalised; left relative when ``folder`` is None)."""
    expanded = Path(expand_data_folder(path)).expanduser()
    if expanded.is_absolute() or folder is None:
        return str(expanded)
    return os.path.abspath(folder / expanded)


def expand_data_folder(path: str) -> str:
    """``path`` with a leading ``$FTBENCH_DATA`` / ``${FTBENCH_DATA}`` made the data folder."""
    match = DATA_VARIABLE.match(path)
    return path if match is None else str(default_root()) + path[match.end():]


def resolve_paths(suite: Any, folder: Path | None) -> Any:
    """``suite`` (a :class:`benchmarks.suite.model.Suite`) with its paths resolved against
    ``folder`` (None for a built-in suite: relative paths stay relative to the current folder).
    """
    pretrain = dataclasses.replace(
        suite.pretrain, dataset_options=_options(suite.pretrain.dataset_options, folder))
    return dataclasses.replace(
        suite, pretrain=pretrain,
        datasets=tuple(_dataset(ref, folder) for ref in suite.datasets),
        backbones=tuple(_backbone(ref, folder) for ref in suite.backbones))


def _options(options: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """Dataset options with path values (non-empty strings) resolved."""
    return {key: resolve_path(value, folder)
            if key in PATH_OPTIONS and isinstance(value, str) and value else value
            for key, value in options.items()}


def _dataset(ref: DatasetRef, folder: Path | None) -> DatasetRef:
    """A dataset entry with its ``root`` resolved."""
    options = tuple(_options(dict(ref.options), folder).items())
    return dataclasses.replace(ref, options=options)


def _backbone(ref: BackboneRef, folder: Path | None) -> BackboneRef:
    """A backbone entry with its checkpoint file resolved (other weights as they are)."""
    if ref.kind != "file":
        return ref
    return dataclasses.replace(ref, weights=resolve_path(ref.weights, folder))
