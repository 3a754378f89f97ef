"""The suite-level measurements of ``python -m benchmarks.perf.main``: (d) pruning and (e) the
quickstart's wall time and peak RSS, each an ``ftbench run`` in a subprocess."""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

from benchmarks.models.pretrain import default_cache_dir
from benchmarks.perf.cases import Measure

QUICKSTART = Path(__file__).parents[1] / "suite" / "builtin" / "quickstart.yaml"


def suite_file(folder: Path, quick: bool) -> Path:
    """The quickstart suite as shipped (median pruner).

    ``quick`` keeps one dataset and size, two strategies, three trials and one start-up trial.
    """
    suite = yaml.safe_load(QUICKSTART.read_text())
    if quick:
        suite.update(datasets=["synth_near"], sizes=[30], epochs_by_size={30: 8}, trials=3,
                     strategies=["feature_extraction", "partial_freeze"], seeds=[0])
        suite["pruner"] = {**suite["pruner"], "n_startup_trials": 1}
    path = folder / "quickstart-median.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def run_suite(path: Path, out: Path, threads: int,
              name: str = "quickstart") -> tuple[float, Path]:
    """``ftbench run`` of a suite file into ``out``: wall seconds and the trials.csv of the
    suite ``name``."""
    cmd = [sys.executable, "-m", "benchmarks.cli", "run", str(path), "--results-dir", str(out),
           "--cache-dir", str(default_cache_dir()), "--threads", str(threads), "--no-progress"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, out / name / "trials.csv"


def tuning_rows(path: Path) -> list[dict[str, str]]:
    """Tuning trials that trained (complete or pruned)."""
    with path.open() as f:
        return [r for r in csv.DictReader(f) if r["status"] in ("COMPLETE", "PRUNED")]


def best_by_cell(rows: list[dict[str, str]]) -> dict[tuple, float]:
    """Best validation accuracy of each cell."""
    best: dict[tuple, float] = {}
    for r in rows:
        cell = (r["dataset"], r["n_train"], r["strategy"])
        best[cell] = max(best.get(cell, 0.0), float(r["val_acc"] or 0.0))
    return best


def case_e(folder: Path, threads: int, quick: bool) -> list[Measure]:
    """(e) the quickstart (pruned, as shipped) in a subprocess: wall time and peak RSS.

    Run first, so that ``RUSAGE_CHILDREN``'s peak is this child's.
    """
    seconds, _ = run_suite(suite_file(folder, quick), folder / "median", threads)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    what = "quick grid" if quick else "full quickstart, report included"
    return [Measure("e", f"quickstart wall time, s ({what})", seconds),
            Measure("e", "quickstart peak RSS, MiB", rss, note="largest child process")]
