"""Paths in a suite file are relative to the file's folder: resolved when the file is loaded.

The path-valued entries are a dataset's ``root`` (``datasets`` and ``pretrain``'s
``dataset_options``) and a backbone's checkpoint file (``weights``). ``~`` is the home folder,
an absolute path stays as it is, and a relative one is joined to the suite file's folder, so
that ``Suite.to_dict()`` (the results folder's ``suite.yaml``) holds absolute paths.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from benchmarks.backbone_ref import BackboneRef
from benchmarks.dataset_ref import DatasetRef

PATH_OPTIONS = ("root",)
"""Dataset options that name a file or folder."""


def resolve_path(path: str, folder: Path) -> str:
    """``path`` with ``~`` expanded and, if relative, joined to ``folder`` (normalised)."""
    expanded = Path(path).expanduser()
    return str(expanded) if expanded.is_absolute() else os.path.abspath(folder / expanded)


def resolve_paths(suite: Any, folder: Path) -> Any:
    """``suite`` (a :class:`benchmarks.suite.Suite`) with its paths resolved against ``folder``.
    """
    pretrain = dataclasses.replace(
        suite.pretrain, dataset_options=_options(suite.pretrain.dataset_options, folder))
    return dataclasses.replace(
        suite, pretrain=pretrain,
        datasets=tuple(_dataset(ref, folder) for ref in suite.datasets),
        backbones=tuple(_backbone(ref, folder) for ref in suite.backbones))


def _options(options: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Dataset options with path values (non-empty strings) resolved."""
    return {key: resolve_path(value, folder)
            if key in PATH_OPTIONS and isinstance(value, str) and value else value
            for key, value in options.items()}


def _dataset(ref: DatasetRef, folder: Path) -> DatasetRef:
    """A dataset entry with its ``root`` resolved."""
    options = tuple(_options(dict(ref.options), folder).items())
    return dataclasses.replace(ref, options=options)


def _backbone(ref: BackboneRef, folder: Path) -> BackboneRef:
    """A backbone entry with its checkpoint file resolved (other weights as they are)."""
    if ref.kind != "file":
        return ref
    return dataclasses.replace(ref, weights=resolve_path(ref.weights, folder))
