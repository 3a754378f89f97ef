"""Case (h) of ``python -m benchmarks.perf.main --only h``: a whole suite on one GPU.

The suite is the 8 cells issue 27 timed (460 s at 1 worker before this case existed):
EfficientNet-Lite0 with its ImageNet weights at 224 px, five CIFAR-10 classes at 250 and
2,500 training images, feature_extraction, partial_freeze, full_finetune and from_scratch,
5 trials and 3 seeds per cell, 30 epochs, batch 64, bf16. Its images come from
``$FTBENCH_DATA/cifar10_5class``; the issue's run took the first 2,000 training images of each
class as the pool (a folder made so), and the whole test split.

First a shortened copy (2 trials, 1 seed, 6 epochs) runs at each worker count of
``--gpu-workers`` to find the count with the highest aggregate throughput: training images
(every epoch of every trial and final seed) per second of wall time, start-up included.
Then the full suite runs once at that count. Each run is ``ftbench run`` in a subprocess,
timed from its start to its exit (the sweep's without the report, the full run's with it).
``--gpu-workers N`` alone skips the sweep's comparison: the full suite runs at N.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.driver.time_box import EXIT_STOPPED
from benchmarks.models.pretrain import default_cache_dir
from benchmarks.perf.cases import Measure

NAME = "gpu_check"
TARGET_S = 200.0
"""The issue's target for the full suite's wall time."""


@dataclass(frozen=True)
class SuiteSize:
    """What one run of the suite trains (``quick`` shrinks it to try the case on a CPU)."""

    sizes: tuple[int, ...] = (250, 2500)
    trials: int = 5
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 30
    input_size: int = 224
    device: str = "cuda"
    precision: str = "bf16"


def short(size: SuiteSize) -> SuiteSize:
    """The copy the worker sweep runs: 2 trials, 1 seed, 6 epochs (at most those of ``size``)."""
    return SuiteSize(size.sizes, min(2, size.trials), size.seeds[:1], min(6, size.epochs),
                     size.input_size, size.device, size.precision)


def suite_dict(size: SuiteSize) -> dict:
    """The suite file's content."""
    return {
        "name": NAME,
        "description": "Issue 27's 8-cell GPU suite: Lite0 at native size on 5 CIFAR-10 "
                       "classes.",
        "backbones": [{"name": "timm:tf_efficientnet_lite0", "input_size": size.input_size,
                       "as": "lite0"}],
        "datasets": [{"name": "imagefolder", "root": "$FTBENCH_DATA/cifar10_5class",
                      "as": "cifar5", "family": "near"}],
        "sizes": list(size.sizes),
        "strategies": ["feature_extraction", "partial_freeze", "full_finetune", "from_scratch"],
        "trials": size.trials,
        "seeds": list(size.seeds),
        "sampler_seed": 0,
        "train": {"max_epochs": size.epochs, "batch_size": 64, "device": size.device,
                  "precision": size.precision, "cache_limit_mb": 4096},
        "pruner": {"type": "median", "n_startup_trials": 2, "n_warmup_steps": 2},
    }


@dataclass(frozen=True)
class SuiteRun:
    """One timed ``ftbench run`` of the suite (``stopped``: ``--stop-after`` ended it first)."""

    workers: int
    wall_s: float
    images: int
    train_s: float
    test_acc: dict[str, float]
    stopped: bool = False
    done: str = ""

    @property
    def rate(self) -> float:
        """Training images per second of wall time, across workers."""
        return self.images / self.wall_s


@dataclass(frozen=True)
class Keep:
    """What a run leaves for later: its log and its results folder packed (``ftbench pack``)
    in ``folder``, and ``stop_after`` (``--stop-after``) to end it inside a time limit."""

    folder: Path | None = None
    stop_after: str | None = None


def run_once(size: SuiteSize, folder: Path, workers: int, report: bool = True,
             keep: Keep = Keep()) -> SuiteRun:
    """``ftbench run`` of the suite with ``workers`` processes into a fresh folder (with
    ``report``, the report it builds at the end is timed too)."""
    path = folder / f"{NAME}-{workers}.yaml"
    path.write_text(yaml.safe_dump(suite_dict(size), sort_keys=False))
    label = f"run-{size.trials}x{size.epochs}-w{workers}"
    out = folder / label
    cmd = [sys.executable, "-m", "benchmarks.cli", "run", str(path), "--results-dir",
           str(out), "--cache-dir", str(default_cache_dir()), "--n-workers", str(workers),
           "--no-progress"] + ([] if report else ["--no-report"])
    cmd += ["--stop-after", keep.stop_after] if keep.stop_after else []
    log = keep.folder / f"{label}.log" if keep.folder else folder / f"{label}.log"
    start = time.perf_counter()
    with log.open("w") as sink:
        code = subprocess.run(cmd, check=False, stdout=sink,
                              stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - start
    if code not in (0, EXIT_STOPPED):
        raise RuntimeError(f"ftbench run exited {code}; its output: {log}")
    if keep.folder:
        _pack(out / NAME, keep.folder / f"{label}.tar.xz")
    trials, final = (_rows(out / NAME / f"{t}.csv") for t in ("trials", "final"))
    trained = [r for r in trials if r["status"] in ("COMPLETE", "PRUNED")] + final
    done = (f"{len(trials)} trial rows, {len(final)} final seeds of "
            f"{len(size.sizes) * 4 * len(size.seeds)}")
    return SuiteRun(workers, wall, sum(int(r["epochs_run"]) * int(r["n_train"]) for r in trained),
                    sum(float(r["train_time_s"]) for r in trained), _test_means(final),
                    code == EXIT_STOPPED, done)


def _pack(results: Path, archive: Path) -> None:
    """``ftbench pack`` of a results folder (a failure is printed, not raised: the numbers
    of the run are already measured)."""
    cmd = [sys.executable, "-m", "benchmarks.cli", "pack", str(results), "--out", str(archive)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode:
        print(f"could not pack {results}: {done.stderr.strip()}", file=sys.stderr)


def _rows(path: Path) -> list[dict[str, str]]:
    """The rows of a results table (none if it was never written)."""
    if not path.is_file():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def _test_means(final: list[dict[str, str]]) -> dict[str, float]:
    """Mean test accuracy per ``n<size>/<strategy>``."""
    groups: dict[str, list[float]] = {}
    for r in final:
        groups.setdefault(f"n{r['n_train']}/{r['strategy']}", []).append(float(r["test_acc"]))
    return {k: sum(v) / len(v) for k, v in sorted(groups.items())}


def sweep(folder: Path, size: SuiteSize, worker_counts: tuple[int, ...]) -> list[SuiteRun]:
    """The shortened suite at each worker count, without its report."""
    return [run_once(short(size), folder, n, report=False) for n in worker_counts]


def sweep_rows(runs: list[SuiteRun]) -> list[Measure]:
    """One line per worker count of the sweep."""
    return [Measure("h", f"short suite, {r.workers} worker(s): training images/s (wall)",
                    r.rate, note=f"{r.wall_s:.0f} s wall, {r.images:,} images, "
                    f"{r.train_s:.0f} s of training summed over workers") for r in runs]


def full_rows(folder: Path, size: SuiteSize, workers: int, keep: Keep = Keep()) -> list[Measure]:
    """The full suite at ``workers`` processes, report included."""
    full = run_once(size, folder, workers, keep=keep)
    accs = ", ".join(f"{k} {v:.3f}" for k, v in full.test_acc.items())
    what = f"8-cell suite wall time, s ({workers} workers, report included)"
    if full.stopped:
        return [Measure("h", f"8-cell suite, stopped unfinished by --stop-after {keep.stop_after}"
                        f" ({workers} workers)", full.wall_s, f"<= {TARGET_S:.0f}", False,
                        f"more than {full.wall_s:.0f} s: {full.done} when it stopped; "
                        f"{full.rate:,.0f} training images/s")]
    return [Measure("h", what, full.wall_s, f"<= {TARGET_S:.0f}", full.wall_s <= TARGET_S,
                    f"{full.rate:,.0f} training images/s; {full.train_s:.0f} s of training "
                    f"summed over workers; mean test accuracy: {accs or 'no final row'}")]


def case_h(folder: Path, size: SuiteSize, worker_counts: tuple[int, ...],
           full: bool = True, keep: Keep = Keep()) -> list[Measure]:
    """(h) the worker sweep (with several counts), then the full suite at the best count
    (``full``); one count alone runs the full suite at that count. ``keep``: where the runs'
    logs and packed results go, and the time box of the full run."""
    runs = sweep(folder, size, worker_counts) if len(worker_counts) > 1 else []
    rows = sweep_rows(runs)
    if full:
        workers = max(runs, key=lambda r: r.rate).workers if runs else worker_counts[0]
        rows += full_rows(folder, size, workers, keep)
    return rows
