"""Worker processes that share one suite through its Optuna storage and results folder.

Every worker runs the same grid in the same order. The storage hands out trial numbers and
enqueued final seeds atomically, so no trial or seed runs twice and every cell gets exactly
its budget (:mod:`benchmarks.driver.tuning`); rows go to the shared CSV files under a file lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from benchmarks.driver.time_box import EXIT_STOPPED


def threads_per_worker(n_workers: int) -> int:
    """CPU threads of each of ``n_workers`` processes, so that they do not oversubscribe."""
    return max(1, (os.cpu_count() or 1) // max(1, n_workers))


def set_threads(options: Any) -> None:
    """Apply ``--threads`` (or one share of the cores per worker) to torch."""
    if options.threads:
        torch.set_num_threads(options.threads)
    elif options.n_workers > 1:
        torch.set_num_threads(threads_per_worker(options.n_workers))


def spawn_workers(suite_yaml: Path, options: Any, mlflow_uri: str, storage: str,
                  cache: Path) -> list[subprocess.Popen]:
    """Start ``options.n_workers - 1`` ``ftbench worker`` processes on this machine (with
    this run's ``--stop-after`` deadline, to the same instant)."""
    if options.worker or options.n_workers <= 1:
        return []
    threads = options.threads or threads_per_worker(options.n_workers)
    command = [sys.executable, "-m", "benchmarks.cli", "worker", str(suite_yaml),
               "--results-dir", str(options.results_root), "--mlflow-uri", mlflow_uri,
               "--storage", storage, "--cache-dir", str(cache), "--threads", str(threads),
               "--stale-after", str(options.stale_after_s), "--no-progress"]
    if options.deadline is not None:
        command += ["--deadline", repr(options.deadline)]
    return [subprocess.Popen(command) for _ in range(options.n_workers - 1)]


def wait_for_workers(workers: list[subprocess.Popen], progress: Any) -> None:
    """Wait for the helper processes; stop them if this one is interrupted. (One that
    ``--stop-after`` stopped before a training that would end too late is no failure.)"""
    try:
        for proc in workers:
            if proc.wait() not in (0, EXIT_STOPPED):
                progress.warn(f"worker process {proc.pid} exited with code {proc.returncode}; "
                              "run the same command again to finish its trials")
    except BaseException:
        for proc in workers:
            proc.terminate()
        raise
