"""The fingerprint of a results folder: everything that decides its numbers, so that a changed
suite run under the same name never merges into rows that another suite made.

It holds the suite's settings (less its description and where its files lie), a SHA-256 of
each dataset's images and labels, of each local weights file, and how the TPE sampler of each
cell is seeded. ``fingerprint.json`` is written once a run has started its work, and every
later run or worker compares its own. Beside it, ``folder_id.txt`` names the folder itself
(:func:`make_folder_id`), for the Optuna studies its runs create.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.data import TaskData
from benchmarks.suite.model import Suite

FILE = "fingerprint.json"
UNSCORED = ("description", "margin")
"""Top-level suite keys that change no number."""
SAMPLER_SEEDS = "sampler_seeds"
"""Top-level key: how each cell's TPE sampler is seeded, :data:`PER_CELL` or
:data:`SUITE_WIDE` (:mod:`benchmarks.driver.seeding`)."""
PER_CELL = "per_cell"
"""A seed per cell, from the suite's ``sampler_seed`` and the cell's key: every new folder."""
SUITE_WIDE = "suite"
"""The suite's ``sampler_seed`` in every cell: folders made before per-cell seeds."""
LATER_KEYS = {"settings.train.schedule": "cosine", "settings.train.restart_epochs": 5,
              "settings.train.restart_mult": 2,
              "settings.train.loss": {"name": "cross_entropy", "gamma": 2.0},
              SAMPLER_SEEDS: SUITE_WIDE, "settings.seeds_within_reach": []}
"""Keys added after fingerprints were first written, with the value that reproduces what
runs did before them: a recorded fingerprint without the key matches a run with that value."""
PLACES = ("root", "download")
"""Dataset options that say where files lie or how to fetch them, not what they hold."""


def fingerprint(suite: Suite, tasks: dict[str, TaskData],
                sampler_seeds: str = PER_CELL) -> dict[str, Any]:
    """The fingerprint of ``suite`` run on ``tasks`` (datasets by their key), its cells'
    samplers seeded as ``sampler_seeds`` says."""
    settings = {k: v for k, v in suite.to_dict().items() if k not in UNSCORED}
    settings = _without_places(settings)
    settings["backbones"] = [_weights_hashed(ref, entry) for ref, entry
                             in zip(suite.backbones, settings["backbones"])]
    value = {"settings": settings,
             "data": {key: task_digest(task) for key, task in sorted(tasks.items())},
             SAMPLER_SEEDS: sampler_seeds}
    return json.loads(json.dumps(value))  # as read back from fingerprint.json: keys as text


def task_digest(task: TaskData) -> str:
    """SHA-256 of a task's class names, images and labels (training pool, then test)."""
    digest = hashlib.sha256(json.dumps(list(task.classes)).encode())
    for part in (task.train.images, task.train.labels, task.test.images, task.test.labels):
        digest.update(part.contiguous().numpy().data)
    return digest.hexdigest()


def _without_places(value: Any) -> Any:
    """``value`` without the keys of :data:`PLACES` at any depth."""
    if isinstance(value, dict):
        return {k: _without_places(v) for k, v in value.items() if k not in PLACES}
    if isinstance(value, list):
        return [_without_places(v) for v in value]
    return value


def _weights_hashed(ref: Any, entry: Any) -> Any:
    """A backbone entry whose local weights file is named by its content, not its path."""
    if ref.kind != "file":
        return entry
    return {**entry, "weights": f"sha256:{file_digest(ref.path)}"}


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def changed_keys(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted keys whose values differ between two fingerprints (``data.fashion_near``,
    ``settings.train.max_epochs``, ``settings.seeds``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [key for k in sorted(set(old) | set(new), key=str)
                for key in _changed_child(old, new, k, f"{path}.{k}" if path else k)]
    return [] if old == new else [path or "(all)"]


def _changed_child(old: dict, new: dict, key: str, path: str) -> list[str]:
    """A key's changes; one an older fingerprint lacks matches its :data:`LATER_KEYS` value."""
    if key not in old and path in LATER_KEYS and new.get(key) == LATER_KEYS[path]:
        return []
    return changed_keys(old.get(key), new.get(key), path)


def sampler_seeding(recorded: dict[str, Any] | None, has_suite_yaml: bool,
                    folder: Path) -> str:
    """How the cells of ``folder`` have their samplers seeded: as its fingerprint
    ``recorded`` says; :data:`SUITE_WIDE` in a folder of an older ftbench (a fingerprint
    without the key, or none beside a ``suite.yaml``); :data:`PER_CELL` in a new folder.

    Raises:
        ValueError: the fingerprint records an unknown way.
    """
    if recorded is None:
        return SUITE_WIDE if has_suite_yaml else PER_CELL
    way = recorded.get(SAMPLER_SEEDS, SUITE_WIDE)
    if way not in (PER_CELL, SUITE_WIDE):
        raise ValueError(f"fingerprint '{folder / FILE}': {SAMPLER_SEEDS} must be "
                         f"'{PER_CELL}' or '{SUITE_WIDE}', but got {way!r}. Restore the file "
                         "from a copy, or move the results folder away.")
    return way


def read(folder: Path) -> dict[str, Any] | None:
    """The fingerprint recorded in ``folder``, or None if it has none.

    Raises:
        ValueError: the file exists but is not a fingerprint.
    """
    path = folder / FILE
    if not path.is_file():
        return None
    try:
        recorded = json.loads(path.read_text())
        if isinstance(recorded, dict) and isinstance(recorded.get("settings"), dict):
            return recorded
    except (ValueError, UnicodeDecodeError):
        pass
    raise ValueError(f"fingerprint '{path}': it must be the JSON that `ftbench run` writes, but "
                     "it is not. Restore it from a copy, or move the results folder away.")


def write(folder: Path, value: dict[str, Any]) -> None:
    """Record ``value`` as the folder's fingerprint (atomically)."""
    tmp = folder / (FILE + ".tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")
    tmp.replace(folder / FILE)


ID_FILE = "folder_id.txt"
"""The folder's identity: a random id made by its first run, recorded in every Optuna study
the folder's runs create, so that a study is never taken up by another folder's run."""


def folder_id(folder: Path) -> str | None:
    """The identity of ``folder`` (:data:`ID_FILE`), or None if no run has made one yet."""
    path = folder / ID_FILE
    return (path.read_text().strip() or None) if path.is_file() else None


def make_folder_id(folder: Path) -> str:
    """The identity of ``folder``, made now if it has none: created exclusively, so that
    workers starting together on a new folder all take the first one's."""
    try:
        handle = os.open(folder / ID_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        for _ in range(50):  # the winner writes its id right after creating the file
            if (found := folder_id(folder)) is not None:
                return found
            time.sleep(0.02)
        raise ValueError(f"results file '{folder / ID_FILE}': it must hold the folder's id, "
                         "but it is empty. Delete it (the next run makes a new one).") from None
    made = uuid.uuid4().hex
    with os.fdopen(handle, "w") as fh:
        fh.write(made + "\n")
    return made
