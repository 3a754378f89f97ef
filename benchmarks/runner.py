"""Run a suite: preflight, pretraining, the tuned grid, final seeds, then the report."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from benchmarks.backbone_ref import BackboneRef
from benchmarks.backbones import check_backbone_name
from benchmarks.cell import CellRun
from benchmarks.cells_run import run_grid
from benchmarks.costs_table import write_backbone_costs
from benchmarks.data import TaskData
from benchmarks.data.resize import resize_task
from benchmarks.grid import Plan, cells, make_all_splits, resolve_plan
from benchmarks.memory import peak_rss_mb
from benchmarks.pretrain import Pretrained, checkpoint_path, default_cache_dir, ensure_pretrained
from benchmarks.progress import Progress
from benchmarks.results import ResultsWriter
from benchmarks.storage import Storage, make_storage
from benchmarks.suite import Suite
from benchmarks.tracking import Tracker, check_reachable, default_uri
from benchmarks.weights import resolve_weights
from benchmarks.workers import spawn_workers, wait_for_workers
from strategies import get_strategy

"""Pause before visiting again the cells whose last trials run in other workers."""


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


@dataclass(frozen=True)
class Preflight:
    """What the checks before any work found: data, sizes, and weights not trained here."""

    tasks: dict[str, TaskData]
    plan: Plan
    weights: dict[str, Pretrained]  # backbone key -> hub, file or no weights


def preflight(suite: Suite, cache: Path | None = None) -> Preflight:
    """Check every name, size and weight before any work starts (nothing is written)."""
    for name in suite.strategies:
        get_strategy(name)
    for ref in suite.backbones:
        check_backbone_name(ref.name)
    tasks = {ref.key: ref.load() for ref in suite.datasets}
    plan = resolve_plan(suite, tasks)
    cache = cache or default_cache_dir()
    weights = {ref.key: resolve_weights(ref, cache) for ref in suite.backbones
               if ref.kind != "ftbench"}
    return Preflight(tasks, plan, weights)


def run_suite(suite: Suite, options: RunOptions) -> Path:
    """Run (or resume) every cell of ``suite``; return its results folder."""
    started = time.perf_counter()
    cache = options.cache_dir or default_cache_dir()
    checked = preflight(suite, cache)
    tasks, plan = checked.tasks, checked.plan
    out = options.results_root / suite.name
    writer, storage, storage_spec, tracker = _open_outputs(suite, options, out)
    mlflow_uri = tracker.uri
    if not options.worker:
        (out / "suite.yaml").write_text(yaml.safe_dump(suite.to_dict(), sort_keys=False))
    grid = cells(suite, plan)
    if not options.worker:
        _write_plan(out, suite, grid)
    progress = Progress(_budget(suite, grid, cache, writer), enabled=options.progress)
    try:
        pretrained = {**checked.weights, **_pretrain_all(suite, cache, progress)}
        models = {ref.key: ref.name for ref in suite.backbones}
        write_backbone_costs(out, suite, pretrained, tasks)
        splits = make_all_splits(suite, tasks, plan)
        inputs = _inputs(tasks, pretrained)
        runs = [CellRun(cell, suite.name, suite.regime(cell.n_train),
                        inputs[cell.dataset, pretrained[cell.backbone].input_size],
                        splits[cell.dataset][cell.n_train], pretrained[cell.backbone].path,
                        models[cell.backbone], suite.train_config(cell.size), tracker, writer,
                        progress) for cell in grid]
        helpers = spawn_workers(out / "suite.yaml", options, mlflow_uri, storage_spec, cache)
        try:
            run_grid(suite, runs, storage, options.stale_after_s)
        finally:
            wait_for_workers(helpers, progress)
    finally:
        progress.close()
    if options.worker:
        return out
    _write_run_info(suite, out, started, pretrained, inputs, plan)
    if options.report:
        from report import build_report

        build_report(out)
    return out


def _open_outputs(suite: Suite, options: RunOptions,
                  out: Path) -> tuple[ResultsWriter, Storage, str, Tracker]:
    """The results folder, the Optuna storage and the MLflow store, opened in an order that
    writes nothing into ``out`` when one of them is wrong (each raises a one-line error)."""
    storage = make_storage(options.storage) if options.storage else None
    tracker = None
    if options.mlflow_uri:
        check_reachable(options.mlflow_uri)
        tracker = Tracker(options.mlflow_uri, f"ftbench/{suite.name}")
    writer = ResultsWriter(out)
    writer.check_headers()
    spec = options.storage or str((out / "optuna.journal").resolve())
    storage = storage or make_storage(spec)
    tracker = tracker or Tracker(default_uri(out), f"ftbench/{suite.name}")
    return writer, storage, spec, tracker


def _inputs(tasks: dict[str, TaskData], pretrained: dict[str, Pretrained]) -> dict:
    """Every dataset resized once to each backbone's input size, shared by all its trials."""
    sizes = {p.input_size for p in pretrained.values()}
    return {(key, size): resize_task(task, size) for key, task in tasks.items() for size in sizes}


def _ftbench_backbones(suite: Suite) -> list[BackboneRef]:
    """The backbones whose weights ftbench pretrains itself."""
    return [ref for ref in suite.backbones if ref.kind == "ftbench"]


def _pretrain_all(suite: Suite, cache: Path, progress: Progress) -> dict[str, Pretrained]:
    """ftbench's own pretrained checkpoint of each backbone that asks for one (cached)."""
    out = {}
    for ref in _ftbench_backbones(suite):
        backbone = ref.name
        cfg = dataclasses.replace(suite.pretrain, backbone=backbone)
        progress.start(f"pretraining {backbone} on {cfg.dataset}")
        done = ensure_pretrained(cfg, cache, report=lambda e, m: progress.epoch())
        meta = done.meta
        progress.finish(cfg.epochs if not meta["cached"] else 0)
        state = "cached" if meta["cached"] else f"trained in {meta['train_time_s']:.0f}s"
        progress.write(f"pretrained {backbone} on {cfg.dataset}: source test accuracy "
                       f"{meta['source_test_acc']:.3f} ({state}), input {done.input_size}px "
                       f"-> {done.path}")
        out[ref.key] = dataclasses.replace(done, input_size=ref.input_size or done.input_size)
    return out


def _budget(suite: Suite, grid: list, cache: Path, writer: ResultsWriter) -> int:
    """Upper bound of the epochs left to run, for the progress bar's ETA."""
    pretrain = sum(
        suite.pretrain.epochs for ref in _ftbench_backbones(suite)
        if not checkpoint_path(dataclasses.replace(suite.pretrain, backbone=ref.name),
                               cache).exists()
    )
    per_cell = suite.trials + len(suite.seeds)
    planned = sum(per_cell * suite.train_config(c.size).max_epochs for c in grid)
    done = writer.read("trials").max_epochs.sum() + writer.read("final").max_epochs.sum()
    return pretrain + max(0, int(planned - done))


def _write_run_info(suite: Suite, out: Path, started: float, pretrained: dict[str, Pretrained],
                    inputs: dict, plan: Plan) -> None:
    """Provenance of the run: versions, hardware, timing, memory, how sizes map to regimes."""
    import optuna
    import timm
    import torch

    info = {
        "suite": suite.name,
        "size_scale": suite.size_scale,
        "regime_note": _regime_note(suite, plan),
        "sizes": {key: {spec.label: n for spec, n in sizes.items()}
                  for key, sizes in plan.items()},
        "epochs_note": _epochs_note(suite),
        "total_time_s": round(time.perf_counter() - started, 1),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "checkpoints": {k: str(v.path) if v.path else None for k, v in pretrained.items()},
        "input_size": {k: v.input_size for k, v in pretrained.items()},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "data_in_memory_mb": round(_data_mb(inputs), 1),
        "versions": {"torch": torch.__version__, "timm": timm.__version__,
                     "optuna": optuna.__version__, "python": platform.python_version()},
        "hardware": {"machine": platform.machine(), "processor": platform.processor(),
                     "cpus": os.cpu_count(), "threads": torch.get_num_threads(),
                     "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None},
        "git_commit": _git_commit(),
        "tuning": {"trials_per_cell": suite.trials, "seeds": list(suite.seeds),
                   "sampler_seed": suite.sampler_seed, "cells": sum(
                       len(sizes) for sizes in plan.values()) * len(suite.backbones)
                   * len(suite.strategies)},
    }
    info["runs"] = _run_history(out / "run.json") + [
        {k: info[k] for k in ("finished", "total_time_s")}]
    (out / "run.json").write_text(json.dumps(info, indent=2))


def _git_commit() -> str | None:
    """The commit of the ftbench source tree (``+dirty`` with local changes); None outside git."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--",
                                str(here.parent / "benchmarks"), str(here.parent / "strategies"),
                                str(here.parent / "report")], check=True, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _run_history(path: Path) -> list[dict]:
    """The ``runs`` of an earlier ``run.json`` (each invocation's time), kept on resume."""
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(earlier, dict):
        return []
    if isinstance(earlier.get("runs"), list):
        return earlier["runs"]
    keys = ("finished", "total_time_s")
    return [{k: earlier[k] for k in keys}] if all(k in earlier for k in keys) else []


def _write_plan(out: Path, suite: Suite, grid: list) -> None:
    """``plan.json``: the cells of this run and their budgets (read by ``ftbench status``)."""
    plan = {
        "suite": suite.name, "trials_per_cell": suite.trials, "seeds": list(suite.seeds),
        "cells": [{"key": c.key, "backbone": c.backbone, "dataset": c.dataset,
                   "n_train": c.n_train, "size": c.size_label, "strategy": c.strategy,
                   "max_epochs": suite.train_config(c.size).max_epochs} for c in grid],
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    tmp = out / "plan.json.tmp"
    tmp.write_text(json.dumps(plan, indent=1))
    tmp.replace(out / "plan.json")


def _data_mb(inputs: dict) -> float:
    """MiB of uint8 images held in memory for the trials (all datasets and input sizes)."""
    sets = [s for task in inputs.values() for s in (task.train, task.test)]
    return sum(s.images.numel() * s.images.element_size() for s in sets) / 2**20


def _epochs_note(suite: Suite) -> str:
    """The epoch budget of each size."""
    written = dict.fromkeys(spec for ref in suite.datasets for spec in suite.sizes_of(ref))
    budgets = ", ".join(f"{s.label}: {suite.train_config(s).max_epochs}" for s in written)
    return (f"epoch budget per trial ({budgets}); early stopping after "
            f"{suite.train.patience} epochs without a better validation accuracy")


def _regime_note(suite: Suite, plan: Plan) -> str:
    """How the suite's sizes stand for the guideline's regimes."""
    counts = sorted({n for sizes in plan.values() for n in sizes.values()})
    parts = [f"{n} -> {suite.regime(n)}" for n in counts]
    if suite.size_scale == 1.0:
        return "sizes are taken literally: " + ", ".join(parts)
    return (f"sizes are scaled by {suite.size_scale}: a training size n stands for "
            f"n / {suite.size_scale} samples in the guideline's rows ({', '.join(parts)})")
