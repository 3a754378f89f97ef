"""What a results folder's run was set up with (from its ``suite.yaml`` and ``run.json``), and
the table of what differs between two runs, for ``ftbench compare``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from report.inputs import margin_of, reach_seeds_of, read_run_info, read_suite_yaml

UNKNOWN = "—"
"""A setting the folder does not record (no ``suite.yaml`` or ``run.json``, or no such key)."""
DIFFERENCE_COLUMNS = ["setting", "A", "B", "differs"]


@dataclass(frozen=True)
class RunSettings:
    """The settings of one run that can change which strategy wins, as display text.

    Attributes:
        backbones: backbone keys (``as:`` names) and the models they name.
        input_size: input size per backbone key, from ``run.json`` ``input_size``.
        epoch_budget: ``epochs_by_size`` and ``train.max_epochs`` (the budget of the other
            sizes).
        trials: Optuna trials per cell.
        seeds: final seeds.
        device: ``train.device`` and ``train.precision``.
        datasets: dataset keys (``as:`` names).
        sizes: the suite's training-set sizes, and its ``size_scale`` when not 1.
        margin: the practical margin of the report's verdicts (the suite's, or the default).
    """

    backbones: str
    input_size: tuple[tuple[str, str], ...]
    epoch_budget: str
    trials: str
    seeds: str
    device: str
    datasets: str
    sizes: str
    margin: str

    def input_size_of(self, backbone: str) -> str:
        """The input size of one backbone key, e.g. ``64``; :data:`UNKNOWN` if not recorded."""
        return dict(self.input_size).get(backbone, UNKNOWN)


LABELS = {"backbones": "backbones", "input_size": "input size (px)",
          "epoch_budget": "epoch budget by size", "trials": "trials per cell",
          "seeds": "seeds", "device": "device, precision", "datasets": "datasets",
          "sizes": "training sizes", "margin": "verdict margin"}
"""How the differences table names each field of :class:`RunSettings`."""


def read_settings(folder: Path) -> RunSettings:
    """The settings of the run that wrote ``folder`` (:data:`UNKNOWN` where not recorded).

    Raises:
        ValueError: ``run.json`` is not valid JSON, or ``suite.yaml`` has a bad margin.
        TypeError: ``run.json`` holds JSON other than an object.
    """
    suite, info = read_suite_yaml(folder / "suite.yaml"), read_run_info(folder / "run.json")
    train, tuning = _dict(suite.get("train")), _dict(info.get("tuning"))
    seeds = suite.get("seeds", tuning.get("seeds"))
    return RunSettings(
        backbones=_named(suite.get("backbones")),
        input_size=tuple((str(k), str(v)) for k, v in _dict(info.get("input_size")).items()),
        epoch_budget=_budget(_dict(suite.get("epochs_by_size")), train.get("max_epochs")),
        trials=_text(suite.get("trials", tuning.get("trials_per_cell"))),
        seeds=_seeds_text(seeds, reach_seeds_of(suite)),
        device=(f"{train['device']}, {train.get('precision', 'fp32')}" if "device" in train
                else UNKNOWN),
        datasets=_keys(suite.get("datasets")),
        sizes=_sizes(suite.get("sizes"), suite.get("size_scale", 1.0)),
        margin=f"{margin_of(suite, folder / 'suite.yaml'):g}",
    )


def differences(a: RunSettings, b: RunSettings) -> pd.DataFrame:
    """One row per setting (columns :data:`DIFFERENCE_COLUMNS`): its text in A and in B, and
    ``differs``: ``yes``, ``""`` (the same) or ``unknown`` (one folder does not record it)."""
    rows = []
    for field in fields(RunSettings):
        left, right = _shown(getattr(a, field.name)), _shown(getattr(b, field.name))
        rows.append({"setting": LABELS[field.name], "A": left, "B": right,
                     "differs": _differs(left, right)})
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def _differs(left: str, right: str) -> str:
    if UNKNOWN in (left, right):
        return "" if left == right else "unknown"
    return "yes" if left != right else ""


def _shown(value: str | tuple[tuple[str, str], ...]) -> str:
    return value if isinstance(value, str) else _pairs(dict(value))


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return UNKNOWN if value is None or isinstance(value, dict | list) else str(value)


def _pairs(values: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in values.items()) or UNKNOWN


def _entries(items: object) -> list[tuple[str, str]]:
    """``(key, name)`` of each backbone or dataset entry: a name, or a mapping with ``name``
    and an optional ``as``."""
    pairs = []
    for item in items if isinstance(items, list) else []:
        name = str(item.get("name", "")) if isinstance(item, dict) else str(item)
        key = str(item.get("as") or name) if isinstance(item, dict) else name
        pairs.append((key, name))
    return pairs


def _named(items: object) -> str:
    shown = [key if key == name else f"{key} ({name})" for key, name in _entries(items)]
    return ", ".join(shown) or UNKNOWN


def _keys(items: object) -> str:
    return ", ".join(key for key, _ in _entries(items)) or UNKNOWN


def _budget(by_size: dict, max_epochs: object) -> str:
    if max_epochs is None and not by_size:
        return UNKNOWN
    rest = f"else {max_epochs}" if max_epochs is not None else ""
    return "; ".join(part for part in (_pairs(by_size) if by_size else "", rest) if part)


def _sizes(sizes: object, scale: object) -> str:
    if not isinstance(sizes, list) or not sizes:
        return UNKNOWN
    text = ", ".join(map(str, sizes))
    return text if scale in (1, 1.0, None) else f"{text} (x {scale})"


def _seeds_text(seeds: object, within_reach: tuple[int, ...]) -> str:
    """``0, 1, 2``, and ``(+ 3, 4 within reach)`` where the suite had seeds within reach."""
    if not isinstance(seeds, list) or not seeds:
        return UNKNOWN
    text = ", ".join(map(str, seeds))
    if within_reach:
        text += f" (+ {', '.join(map(str, within_reach))} within reach)"
    return text
