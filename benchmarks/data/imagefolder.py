"""The user's own images as a task: a folder tree of class folders, decoded once with PIL.

Two layouts are accepted under ``root``:

* ``root/train/<class>/*`` and ``root/test/<class>/*``, optionally ``root/val/<class>/*``,
  which joins the training pool (ftbench carves its own validation split from the pool);
* ``root/<class>/*``, split into train and test per class, seeded (``split_seed``) and
  stratified (``round(test_fraction * n)`` test images per class).

Images are files ending in .png, .jpg, .jpeg, .bmp, .gif or .webp (any case), found
recursively in each class folder; grayscale, RGBA and 16-bit images become 8-bit RGB (the
fixed scale of each mode: :mod:`benchmarks.data._modes`). Class names are the sorted folder
names. Registered as ``imagefolder`` (family "far") with the options ``root``
(required), ``classes``, ``image_size``, ``split_seed`` (0) and ``test_fraction`` (0.2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.data._tasks import Samples, assemble_task, concat, stratified_split
from benchmarks.data.options import REQUIRED, data_folder_note
from benchmarks.data.registry import TaskData, register_dataset

EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
_FIX_LAYOUT = "Use root/train/<class>/ and root/test/<class>/, or root/<class>/ only."


def build_imagefolder(
    name: str,
    family: str,
    *,
    root: str,
    classes: tuple[int | str, ...] | None,
    image_size: int | None,
    split_seed: int,
    test_fraction: float,
) -> TaskData:
    """Load the image tree under ``root`` (see the module docstring for the layouts).

    Raises:
        ValueError: One line naming the folder or file at fault: a missing root, no class
            folders, an empty class folder, test classes that differ from the training ones, a
            corrupt image, or images of different sizes without ``image_size``.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise ValueError(
            f"Dataset '{name}': an existing folder as root must hold, but got '{root}'. "
            f"Pass the folder that holds your class folders (or train/ and test/)."
            f"{data_folder_note(root)}"
        )
    if (folder / "train").is_dir() or (folder / "test").is_dir():
        class_names, splits = _split_layout(name, folder)
    else:
        class_names = [d.name for d in _class_folders(name, folder)]
        pool = _tree_samples(name, folder, class_names)
        splits = stratified_split(name, pool, class_names, test_fraction, split_seed)
    return assemble_task(name, family, class_names, splits, classes, image_size)


def _split_layout(name: str, folder: Path) -> tuple[list[str], tuple[Samples, Samples]]:
    """Class names and (train + val, test) samples of the ``train/``, ``test/`` layout."""
    for part in ("train", "test"):
        if not (folder / part).is_dir():
            raise ValueError(
                f"Dataset '{name}': an existing '{folder / part}' must hold next to the other "
                f"split, but got none. {_FIX_LAYOUT}"
            )
    class_names = [d.name for d in _class_folders(name, folder / "train")]
    parts = [_tree_samples(name, folder / "train", class_names)]
    if (folder / "val").is_dir():
        parts.append(_tree_samples(name, folder / "val", class_names))
    test = _tree_samples(name, folder / "test", class_names)
    missing = [c for i, c in enumerate(class_names) if not np.any(test.labels == i)]
    if missing:
        raise ValueError(
            f"Dataset '{name}': every training class in '{folder / 'test'}' must hold, but got "
            f"none of {missing}. Add test images of those classes. {_FIX_LAYOUT}"
        )
    return class_names, (concat(parts), test)


def _class_folders(name: str, folder: Path) -> list[Path]:
    """The sorted, non-hidden subfolders of ``folder``; at least one."""
    found = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise ValueError(
            f"Dataset '{name}': at least one class folder in '{folder}' must hold, but got "
            f"none. {_FIX_LAYOUT}"
        )
    return found


def _tree_samples(name: str, folder: Path, class_names: list[str]) -> Samples:
    """The image files of each class folder in ``folder``, labelled by ``class_names``."""
    paths: list[str] = []
    labels: list[int] = []
    for class_dir in _class_folders(name, folder):
        if class_dir.name not in class_names:
            raise ValueError(
                f"Dataset '{name}': class folders known from training must hold, but got "
                f"'{class_dir}', unknown to {class_names}. Rename or remove it, or add it to "
                f"the training folder."
            )
        files = _image_files(name, class_dir)
        paths += files
        labels += [class_names.index(class_dir.name)] * len(files)
    return Samples(np.asarray(labels, dtype=np.int64), tuple(paths))


def _image_files(name: str, class_dir: Path) -> list[str]:
    """Sorted image files under ``class_dir`` (recursively); at least one."""
    files = sorted(
        str(p) for p in class_dir.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file()
    )
    if not files:
        raise ValueError(
            f"Dataset '{name}': at least one image in class folder '{class_dir}' must hold, but "
            f"got none. Add .png/.jpg/.jpeg/.bmp/.gif/.webp files or remove the folder."
        )
    return files


def _root_folder(*, root: str, **_: object) -> list[Path]:
    """The folder whose files make up the task (for the fingerprint)."""
    return [Path(root)]


register_dataset(
    "imagefolder", "far", build_imagefolder,
    options={"root": REQUIRED, "classes": None, "image_size": None, "split_seed": 0,
             "test_fraction": 0.2},
    files=_root_folder,
)  # fmt: skip
