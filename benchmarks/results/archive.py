"""``ftbench pack`` and ``ftbench unpack``: a results folder as one archive that holds what a
run needs to resume exactly on another machine (tables, fingerprint, plan, the Optuna journal,
the MLflow store), and its safe restoring there.

Left out: ``report/`` (rebuilt from the tables), lock and temporary files. The archive holds
one folder, named as the results folder, so that unpacking into a ``--results-dir`` restores
``<results-dir>/<suite>/``.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

LIMIT_MIB = 16
"""The largest archive ``ftbench pack`` writes, MiB."""
TOP_FILES = ("fingerprint.json", "folder_id.txt", "plan.json", "run.json", "suite.yaml",
             "optuna.journal", "optuna.db", "mlflow.db")
"""Files of the folder's top level that resuming needs, besides every ``*.csv`` (the tables,
``backbones.csv``, ``timing_caveats.csv``)."""
FOLDERS = ("features", "mlartifacts")
"""Folders packed with everything in them."""
MODES = {".tar.xz": "xz", ".txz": "xz", ".tar.gz": "gz", ".tgz": "gz"}
"""Archive name endings and their compression."""
_MIB = 2**20


def packed_files(folder: Path) -> list[Path]:
    """The files of ``folder`` an archive holds, relative to it, in a stable order."""
    top = sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink()
                 and (p.suffix == ".csv" or p.name in TOP_FILES))
    deep = sorted(p for name in FOLDERS for p in (folder / name).rglob("*")
                  if p.is_file() and not p.is_symlink())
    return [p.relative_to(folder) for p in top + deep]


def default_archive(folder: Path) -> Path:
    """``<name>.tar.xz`` in the current folder."""
    return Path(f"{folder.resolve().name}.tar.xz")


def pack(folder: Path, archive: Path, limit_mib: float = LIMIT_MIB) -> list[Path]:
    """Write the archive of the results folder ``folder``; return the files it holds.

    Raises:
        ValueError: one line: ``folder`` is no results folder, ``archive`` exists or has an
            unknown ending, or the archive would exceed ``limit_mib`` (nothing is written).
    """
    mode = _check_pack(folder, archive)
    files = packed_files(folder)
    top = folder.resolve().name
    fd, tmp = tempfile.mkstemp(dir=archive.resolve().parent, prefix=f".{archive.name}.")
    os.close(fd)
    try:
        with tarfile.open(tmp, f"w:{mode}") as tar:
            for rel in files:
                tar.add(folder / rel, arcname=f"{top}/{rel.as_posix()}", recursive=False,
                        filter=_anonymous)
        size = Path(tmp).stat().st_size
        if size > limit_mib * _MIB:
            raise ValueError(_too_big(archive, size, folder, files, limit_mib))
        Path(tmp).replace(archive)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return files


def _check_pack(folder: Path, archive: Path) -> str:
    """The compression of ``archive``, once ``folder`` and ``archive`` are fit for packing."""
    if not folder.is_dir():
        what = "it is a file" if folder.exists() else "it does not exist"
        raise ValueError(f"results folder '{folder}': it must be a folder, but {what}. Pass the "
                         "folder `ftbench run` wrote, e.g. results/quickstart.")
    if not (folder / "plan.json").is_file():
        raise ValueError(f"results folder '{folder}': it must hold plan.json (written when "
                         "`ftbench run` starts), but it does not. Pack the folder a run wrote, "
                         "e.g. results/quickstart.")
    mode = next((m for end, m in MODES.items() if archive.name.endswith(end)), None)
    if mode is None:
        raise ValueError(f"archive '{archive}': its name must end in .tar.xz, .txz, .tar.gz or "
                         f".tgz, but it does not. Pass --out {archive.name}.tar.xz, for example.")
    if archive.exists():
        raise ValueError(f"archive '{archive}': it must not exist yet, but it does. Pass --out "
                         "another path, or delete it first.")
    if not archive.resolve().parent.is_dir():
        raise ValueError(f"archive '{archive}': its folder must exist, but it does not. "
                         "Create it, or pass --out another path.")
    return mode


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """A member without the packing machine's user and group."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _too_big(archive: Path, size: int, folder: Path, files: list[Path], limit: float) -> str:
    """The one-line refusal of an archive over ``limit`` MiB, naming its biggest part."""
    parts: dict[str, int] = {}
    for rel in files:
        part = rel.parts[0] + ("/" if len(rel.parts) > 1 else "")
        parts[part] = parts.get(part, 0) + (folder / rel).stat().st_size
    name, biggest = max(parts.items(), key=lambda kv: kv[1])
    return (f"archive '{archive}': it must be at most {limit:g} MiB, but it would be "
            f"{size / _MIB:.1f} MiB (the biggest part: {name}, {biggest / _MIB:.1f} MiB before "
            "compression). Copy the folder itself instead (rsync -a or scp -r), or run both "
            "machines on one --storage database and --mlflow-uri server.")


def unpack(archive: Path, results_root: Path) -> Path:
    """Restore the results folder of ``archive`` (from :func:`pack`) under ``results_root``;
    return it. Extracted beside it first and moved into place whole, so a failure leaves
    nothing half-written.

    Raises:
        ValueError: one line: the archive is missing, unreadable, not one of ``ftbench pack``,
            has a member that would land outside its folder or is no plain file or folder,
            or the folder it restores exists and is not empty.
    """
    with _open(archive) as tar:
        members = tar.getmembers()
        top = _checked_top(archive, members)
        dest = results_root / top
        if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
            raise ValueError(f"results folder '{dest}': it must be absent or empty before "
                             f"unpacking, but it holds files. Pass --results-dir another parent "
                             "folder, or move that folder away.")
        _make_folder(results_root)
        staging = Path(tempfile.mkdtemp(dir=results_root, prefix=f".{top}.unpacking-"))
        try:
            _extract(tar, members, staging)
            if dest.exists():
                dest.rmdir()
            (staging / top).rename(dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return dest


def _make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) unless it exists; one line if it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--results-dir '{folder}': it must be a writable folder, but "
                         f"{exc.strerror or exc}. Pass --results-dir another folder.") from None


def _open(archive: Path) -> tarfile.TarFile:
    """``archive`` opened for reading, whatever its compression."""
    if not archive.is_file():
        what = "it is a folder" if archive.is_dir() else "it does not exist"
        raise ValueError(f"archive '{archive}': it must be a file, but {what}. Pass the file "
                         "`ftbench pack` wrote.")
    try:
        return tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"archive '{archive}': it must be a .tar.xz or .tar.gz that `ftbench "
                         f"pack` wrote, but reading it failed ({type(exc).__name__}: {exc}). "
                         "Copy it again; a transfer may have cut it short.") from None


def _checked_top(archive: Path, members: list[tarfile.TarInfo]) -> str:
    """The one folder every member lies in; refuses links, devices, absolute paths and
    ``..``, and an archive without that folder's ``plan.json``."""
    tops = set()
    for member in members:
        path = PurePosixPath(member.name)
        plain = member.isfile() or member.isdir()
        if path.is_absolute() or ".." in path.parts or not plain:
            what = "outside it" if plain else "a link or device"
            raise ValueError(f"archive '{archive}': every member must be a plain file or "
                             f"folder inside its one folder, but '{member.name}' is {what}. "
                             "Unpack only archives that `ftbench pack` wrote.")
        tops.add(path.parts[0] if path.parts else "")
    names = {PurePosixPath(m.name).as_posix() for m in members}
    top = next(iter(tops)) if len(tops) == 1 else None
    if top in (None, "", ".") or f"{top}/plan.json" not in names:
        raise ValueError(f"archive '{archive}': it must hold one results folder with its "
                         f"plan.json, as `ftbench pack` writes it, but it holds "
                         f"{sorted(tops)[:3]}. Pass an archive of `ftbench pack`.")
    return top


def _extract(tar: tarfile.TarFile, members: list[tarfile.TarInfo], into: Path) -> None:
    """Extract checked members, with tarfile's ``data`` filter where Python has it."""
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    try:
        tar.extractall(into, members=members, **safe)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"archive '{tar.name}': it must be readable to its end, but "
                         f"extracting failed ({type(exc).__name__}: {exc}). Copy it again; a "
                         "transfer may have cut it short.") from None
