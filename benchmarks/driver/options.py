"""Where a suite run reads and writes, and how it runs, apart from the suite itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunOptions:
    """Where a suite run reads and writes, independent of the suite itself."""

    results_root: Path = Path("results")
    mlflow_uri: str | None = None
    storage: str | None = None
    cache_dir: Path | None = None
    progress: bool | None = None
    report: bool = True
    stale_after_s: float = 1800.0
    n_workers: int = 1
    threads: int | None = None
    worker: bool = False  # a helper process: no report, no run.json
    extend: bool = False  # accept more seeds, trials, strategies or sizes than the folder had
    started: float | None = None  # perf_counter() when the command started (run.json's clock)
    deadline: float | None = None  # time.time() by which every training must end (--stop-after)
