"""What this machine can give a run, checked before any work: the device a suite names, a
cache folder, and how many worker processes its cores and memory hold."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

WORKER_MEMORY_GIB = 1.5
"""Memory one worker process needs, at least: the quickstart's measured peak RSS is
1,340 MiB (README, Speed), most of it torch, timm and the data every worker holds."""


def check_device(device: str) -> None:
    """Raise one line unless ``device`` (``cpu``, ``cuda``, ``cuda:N``, ``mps``) is here."""
    import torch

    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else "no GPU visible"
            raise ValueError(f"train.device '{device}': a CUDA GPU must be available, but "
                             f"torch {torch.__version__} sees none ({build}). Use device: cpu, "
                             "or run on a GPU machine with a CUDA build of torch.")
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ValueError(f"train.device '{device}': index < {torch.cuda.device_count()} "
                             f"(the GPUs here) must hold, but got {index}. Use cuda:0.")
    elif device == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"train.device '{device}': Apple's MPS must be available, but it is "
                         "not on this machine. Use device: cpu.")


def check_cache_dir(path: Path, name: str) -> None:
    """Raise one line unless ``path`` is, or can become, a writable folder. Permission bits
    do not tell (root passes ``os.access`` on a read-only file system), and a cache that
    fails only when the first checkpoint is written fails after minutes of pretraining: so
    the folder is made, a file written in it, and both removed again (nothing is left)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "it is a file" if existing == path else f"'{existing}' is a file"
        raise ValueError(f"{name} '{path}': it must be a folder, but {what}. Pass --cache-dir "
                         "a folder (or set FTBENCH_CACHE).")
    made = [p for p in (path, *path.parents) if p not in (existing, *existing.parents)]
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".ftbench-write-test-"):
            pass
    except OSError as exc:
        raise ValueError(f"{name} '{path}': it must be a folder ftbench can create and write "
                         f"in, but that failed ({exc.strerror or exc}). Fix its permissions or "
                         "pass --cache-dir another folder (or set FTBENCH_CACHE).") from None
    finally:
        for folder in made:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()


def check_workers(n_workers: int) -> None:
    """Raise one line if this machine cannot hold ``n_workers`` processes of one suite."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    memory = _available_gib()
    by_memory = cores if memory is None else max(1, int(memory // WORKER_MEMORY_GIB))
    most = min(cores, by_memory)
    if n_workers > most:
        held = "" if memory is None else \
            f", {memory:.1f} GiB of memory free at {WORKER_MEMORY_GIB:g} GiB per worker"
        raise ValueError(f"--n-workers <= {most} must hold on this machine ({cores} cores"
                         f"{held}), but got {n_workers}. Use --n-workers {most}, or start "
                         "`ftbench worker` on other machines that share --storage.")


def _available_gib() -> float | None:
    """Memory available to new processes (Linux's MemAvailable); None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    return None
