"""Read a results directory for the report: its CSV tables with names as text and numbers
coerced, ``run.json`` and the verdicts' margin from ``suite.yaml``; one clear error for a
missing, empty or damaged file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.results.csv_check import read_checked
from benchmarks.results.verdicts import MARGIN

TEXT_COLUMNS = ("suite", "backbone", "dataset", "family", "regime", "strategy", "status",
                "reason", "params", "mlflow_run_id", "true_class", "pred_class")
TRIALS_REQUIRED = ("backbone", "dataset", "n_train", "regime", "strategy", "status", "reason",
                   "lr", "val_acc")
FINAL_REQUIRED = ("backbone", "dataset", "n_train", "regime", "strategy", "seed", "test_acc",
                  "val_acc", "best_epoch", "max_epochs")
EPOCHS_REQUIRED = ("backbone", "dataset", "n_train", "strategy", "trial", "epoch", "val_acc",
                   "train_loss")
CONFUSION_REQUIRED = ("n_train", "seed", "true_idx", "true_class", "pred_idx", "pred_class",
                      "count", "mlflow_run_id")
NUMERIC_COLUMNS = ("n_train", "lr", "val_acc", "test_acc", "test_macro_f1", "test_macro_precision",
                   "test_macro_recall", "best_epoch",
                   "max_epochs", "seed", "trial", "epoch", "train_loss", "train_time_s",
                   "trainable_params", "true_idx", "pred_idx", "count")
OPTIONAL_COLUMNS = {"trials": ("trial", "is_default"),
                    "final": ("train_time_s", "trainable_params")}
"""Columns the report uses where present; hand-made or older files may lack them (NaN)."""


def _missing(path: Path, state: str) -> ValueError:
    return ValueError(
        f"{path.name} '{path}': the file must exist and hold at least one row, but got "
        f"{state}. Run `ftbench run` with this results directory to produce it, then build "
        "the report again."
    )


def read_results_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a results CSV (trials, final, epochs) with names as text and numbers coerced.

    Args:
        path: The CSV file.
        required: Columns the report needs.

    Returns:
        The rows; text columns have '' for empty cells.

    Raises:
        ValueError: If the file is missing, empty, has a damaged row or lacks a required
            column.
    """
    if not path.is_file():
        raise _missing(path, "no such file")
    if path.stat().st_size == 0:
        raise _missing(path, "an empty file")
    text = {c: str for c in TEXT_COLUMNS}
    checked, _ = read_checked(path)
    frame = pd.read_csv(io.StringIO(checked), dtype=text, keep_default_na=False,
                        na_values=[""])
    if frame.empty:
        raise _missing(path, "a header with no rows")
    absent = [c for c in required if c not in frame.columns]
    if absent:
        raise ValueError(
            f"{path.name} '{path}': columns {list(required)} must be present, but got no "
            f"{absent}. Regenerate it with `ftbench run`."
        )
    for column in frame.columns.intersection(TEXT_COLUMNS):
        frame[column] = frame[column].fillna("")
    for column in frame.columns.intersection(NUMERIC_COLUMNS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if frame["n_train"].isna().any():
        raise ValueError(f"{path.name} '{path}': n_train must be an integer in every row, but "
                         "got empty or non-numeric cells. Regenerate it with `ftbench run`.")
    frame["n_train"] = frame["n_train"].astype(int)
    return frame


def read_optional(path: Path, required: tuple[str, ...]) -> pd.DataFrame | None:
    """A table the report can do without (``epochs.csv``, ``confusion.csv``), or None.

    Raises:
        ValueError: If the file exists but is empty or lacks a required column.
    """
    return read_results_csv(path, required) if path.exists() else None


def with_optional(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    absent = [c for c in OPTIONAL_COLUMNS[table] if c not in frame.columns]
    return frame.assign(**{c: float("nan") for c in absent})


def read_run_info(path: Path) -> dict:
    """``run.json`` as a dict, or ``{}`` when absent.

    Raises:
        ValueError: If the file exists but is not valid JSON.
        TypeError: If it holds JSON other than an object.
    """
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"run.json '{path}': valid JSON must hold, but got {error}. "
                         "Delete or regenerate it with `ftbench run`.") from error
    if not isinstance(info, dict):
        raise TypeError(f"run.json '{path}': a JSON object must hold, but got "
                         f"{type(info).__name__}. Delete or regenerate it with `ftbench run`.")
    return info


def read_margin(path: Path) -> float:
    """The practical margin of the verdicts in the ``suite.yaml`` at ``path``
    (:func:`margin_of`).

    Raises:
        ValueError: the file's margin is not a number in (0, 0.5).
    """
    return margin_of(read_suite_yaml(path), path)


def margin_of(suite: dict, path: Path) -> float:
    """The practical margin of the verdicts: ``margin`` of ``suite`` (the folder's
    ``suite.yaml`` at ``path``, as :func:`read_suite_yaml` read it), else
    :data:`benchmarks.results.verdicts.MARGIN` (a folder without one, or of an older ftbench).

    Raises:
        ValueError: the file's margin is not a number in (0, 0.5).
    """
    value = suite.get("margin", MARGIN)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 0.5:
        raise ValueError(f"suite.yaml '{path}': margin must be a number in (0, 0.5), but got "
                         f"{value!r}. Fix it (0.01 = one accuracy point), or delete the key.")
    return float(value)


def reach_seeds_of(suite: dict) -> tuple[int, ...]:
    """``seeds_within_reach`` of ``suite`` (a folder's ``suite.yaml`` as
    :func:`read_suite_yaml` read it): the final seeds a suite adds where a verdict was within
    reach (:mod:`benchmarks.results.reach`); none if it has none or the file cannot be read."""
    value = suite.get("seeds_within_reach", [])
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        return ()
    return tuple(value)


def read_suite_yaml(path: Path) -> dict:
    """``suite.yaml`` as a mapping; empty when it is missing or unreadable (provenance shows
    the file as it is, and the report takes the defaults)."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
