"""Dataset options: checking the keys and values a caller passes, and resolving their defaults.

A dataset registers the options it accepts with their defaults (see ``register_dataset``). The
common ones of the real datasets are:

* ``root``: folder of the files; ``None`` means ``$FTBENCH_DATA`` or ``~/.cache/ftbench/data``,
  ``REQUIRED`` means the caller must give it.
* ``download``: fetch missing files from the internet (default ``False``: never).
* ``classes``: class indices or names to keep, relabelled ``0..k-1`` in the given order.
* ``image_size``: resize every image once, at load time, to ``image_size`` squared.
* ``split_seed`` and ``test_fraction``: the seeded, stratified test split of a single pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from benchmarks.messages import did_you_mean


class _Required:
    """Marker default of an option the caller must give."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()
REAL_OPTIONS: Mapping[str, object] = {
    "root": None,
    "download": False,
    "classes": None,
    "image_size": None,
}
"""Options of every dataset read from files on disk (the torchvision ones)."""


def default_root() -> Path:
    """The data folder: ``$FTBENCH_DATA`` if set, else ``~/.cache/ftbench/data``."""
    return Path(os.environ.get("FTBENCH_DATA") or "~/.cache/ftbench/data").expanduser()


def data_folder_note(root: str) -> str:
    """For a message about files missing under ``root``: a sentence saying where the data
    folder came from (``$FTBENCH_DATA``, or the default as it is not set) when ``root`` lies in
    it, so the user sees which setting to fix; empty for any other root."""
    folder = os.path.abspath(default_root())
    if os.path.commonpath([os.path.abspath(root), folder]) != folder:
        return ""
    variable = os.environ.get("FTBENCH_DATA")
    if variable:
        return (f" That is under the data folder {folder}, which the environment variable "
                f"FTBENCH_DATA={variable} sets: check that it names the folder holding the data.")
    return (f" That is under the default data folder {folder}, as the environment variable "
            "FTBENCH_DATA is not set: set it to the folder holding the data.")


def shown_defaults(defaults: Mapping[str, object]) -> dict[str, object]:
    """Defaults as a user sees them: a ``None`` root becomes the default data folder."""
    shown = dict(defaults)
    if "root" in shown and shown["root"] is None:
        shown["root"] = str(default_root())
    return shown


def resolve_options(
    name: str, defaults: Mapping[str, object], given: Mapping[str, object]
) -> dict[str, object]:
    """Merge ``given`` into ``defaults`` and check every value.

    Args:
        name: Dataset name, for messages.
        defaults: The options the dataset accepts, with their defaults.
        given: The options the caller passed.

    Returns:
        All options, in the order of ``defaults``, with hashable values and an absolute root.

    Raises:
        ValueError: On an unknown key (naming the valid ones and the closest) or a bad value.
    """
    for key in given:
        if key not in defaults:
            raise _unknown_option(name, key, list(defaults))
    merged = {key: given.get(key, default) for key, default in defaults.items()}
    return {key: _CHECKS.get(key, _hashable)(name, key, value) for key, value in merged.items()}


def _unknown_option(name: str, key: str, valid: list[str]) -> ValueError:
    """The error for an option key the dataset does not accept."""
    if not valid:
        return ValueError(
            f"Dataset '{name}': no options must hold, but got {key!r}. This dataset's data is "
            f"fixed; call it without options."
        )
    return ValueError(
        f"Dataset '{name}': option in {', '.join(sorted(valid))} must hold, but got {key!r}."
        f"{did_you_mean(key, valid, n=1)} See dataset_options({name!r})."
    )


def _bad_value(name: str, key: str, condition: str, value: object, fix: str) -> ValueError:
    return ValueError(
        f"Dataset '{name}': option '{key}' {condition} must hold, but got {value!r}. {fix}"
    )


def _hashable(name: str, key: str, value: object) -> object:
    """A plugin's own option, made hashable (lists become tuples) for the in-memory cache."""
    return tuple(value) if isinstance(value, list) else value


def _root(name: str, key: str, value: object) -> str:
    if value is REQUIRED:
        raise ValueError(
            f"Dataset '{name}': option '{key}' given must hold, but got none. "
            f"Pass {key}='/path/to/folder'."
        )
    if value is None:
        return str(default_root())
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise _bad_value(name, key, "a folder path", value, "Pass a str or pathlib.Path.")
    return os.path.abspath(os.path.expanduser(os.fspath(value)))


def _download(name: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _bad_value(name, key, "a bool", value, "Pass true or false.")
    return value


def _classes(name: str, key: str, value: object) -> tuple[int | str, ...] | None:
    if value is None:
        return None
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0
    if not ok or not all(isinstance(c, (int, str)) and not isinstance(c, bool) for c in value):
        raise _bad_value(
            name, key, "a non-empty list of class indices or names", value,
            "Pass e.g. [0, 1, 2] or ['cat', 'dog'].",
        )  # fmt: skip
    return tuple(value)


def _image_size(name: str, key: str, value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _bad_value(name, key, ">= 1 (an int)", value, "Pass e.g. 32 or 224.")
    return value


def _seed(name: str, key: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad_value(name, key, "an int", value, "Pass e.g. 0.")
    return value


def _fraction(name: str, key: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
        raise _bad_value(name, key, "0 < test_fraction < 1", value, "Pass e.g. 0.2.")
    return float(value)


_CHECKS: dict[str, Callable[[str, str, object], object]] = {
    "root": _root,
    "download": _download,
    "classes": _classes,
    "image_size": _image_size,
    "split_seed": _seed,
    "test_fraction": _fraction,
}


def class_indices(
    name: str, class_names: Sequence[str], classes: Sequence[int | str] | None
) -> list[int]:
    """Indices into ``class_names`` of the ``classes`` option (all classes when ``None``).

    Raises:
        ValueError: On an index out of range, an unknown name (with close matches) or a class
            given twice.
    """
    if classes is None:
        return list(range(len(class_names)))
    indices = [_class_index(name, class_names, c) for c in classes]
    if len(set(indices)) != len(indices):
        raise _bad_value(
            name, "classes", "distinct classes", list(classes), "Name each class once."
        )
    return indices


def _class_index(name: str, class_names: Sequence[str], wanted: int | str) -> int:
    """Index of one entry of the ``classes`` option."""
    n = len(class_names)
    shown = ", ".join(list(class_names[:20]) + (["..."] if n > 20 else []))
    if isinstance(wanted, int):
        if not 0 <= wanted < n:
            raise _bad_value(name, "classes", f"0 <= index < {n}", wanted,
                             f"Use a smaller index or a name: {shown}.")
        return wanted
    if wanted not in class_names:
        hint = did_you_mean(wanted, class_names)
        raise _bad_value(
            name, "classes", "known class names", wanted, f"Valid names: {shown}.{hint}"
        )
    return list(class_names).index(wanted)
