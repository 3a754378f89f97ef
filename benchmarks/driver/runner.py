"""Run a suite: preflight, pretraining, the tuned grid, final seeds, then the report."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.data import TaskData, load_dataset, validation_size
from benchmarks.data.resize import resize_task
from benchmarks.driver.cell import Cell, CellRun, image_bytes
from benchmarks.driver.cell_data import CellData
from benchmarks.driver.cells_run import run_grid
from benchmarks.driver.costs_table import write_backbone_costs
from benchmarks.driver.grid import Plan, cells, make_all_splits, resolve_plan
from benchmarks.driver.machine import check_cache_dir, check_device
from benchmarks.driver.ownership import check_owned, claim_studies
from benchmarks.driver.progress import Progress
from benchmarks.driver.resume_guard import (
    check_journal_exists,
    check_same_suite,
    check_splits_kept,
    check_storage_knows_rows,
)
from benchmarks.driver.run_info import write_plan, write_run_info
from benchmarks.driver.seeding import SamplerSeeds, folder_seeds
from benchmarks.driver.storage import Storage, make_storage
from benchmarks.driver.time_box import TimeBox, TimeUp
from benchmarks.driver.tracking import Tracker, artifacts_dir, check_reachable, default_uri
from benchmarks.driver.workers import spawn_workers, wait_for_workers
from benchmarks.engine.placement import plan_placement
from benchmarks.messages import masked_url
from benchmarks.models.backbones import check_backbone_name, create_backbone
from benchmarks.models.memory_format import FormatChoice, choose_format
from benchmarks.models.pretrain import (
    Pretrained,
    checkpoint_path,
    default_cache_dir,
    ensure_pretrained,
)
from benchmarks.models.ref import BackboneRef
from benchmarks.models.weights import resolve_weights
from benchmarks.results.fingerprint import fingerprint, folder_id, make_folder_id
from benchmarks.results.fingerprint import write as write_fingerprint
from benchmarks.results.layout import check_report_folder
from benchmarks.results.tables import ResultsWriter, check_tables, upgrade_tables
from benchmarks.suite.model import Suite
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
    extend: bool = False  # accept more seeds, trials, strategies or sizes than the folder had
    started: float | None = None  # perf_counter() when the command started (run.json's clock)
    deadline: float | None = None  # time.time() by which every training must end (--stop-after)


@dataclass(frozen=True)
class Preflight:
    """What the checks before any work found: data, sizes, and weights not trained here."""

    tasks: dict[str, TaskData]
    plan: Plan
    weights: dict[str, Pretrained]  # backbone key -> hub, file or no weights


def preflight(suite: Suite, cache: Path | None = None,
              options: RunOptions | None = None) -> Preflight:
    """Check every name, size, device and weight before any work starts (nothing is
    written)."""
    check_device(suite.train.device)
    cache = cache or default_cache_dir()
    check_cache_dir(cache, "--cache-dir" if options and options.cache_dir else "the cache")
    for name in suite.strategies:
        get_strategy(name)
    for ref in suite.backbones:
        check_backbone_name(ref.name)
    tasks = {}
    for ref in suite.datasets:
        if sys.stderr.isatty():  # the first seconds show what they are spent on
            print(f"ftbench: loading dataset {ref.key} ({ref.name})", file=sys.stderr)
        tasks[ref.key] = ref.load()
    plan = resolve_plan(suite, tasks)
    weights = {ref.key: resolve_weights(ref, cache) for ref in suite.backbones
               if ref.kind != "ftbench"}
    return Preflight(tasks, plan, weights)


def run_suite(suite: Suite, options: RunOptions) -> Path:
    """Run (or resume) every cell of ``suite``; return its results folder.

    Every check comes before any work or write: names, data, devices and weights
    (:func:`preflight`), the storage, tracking and results folder (:func:`_open_outputs`),
    then that the folder holds this same suite and the storage its trials
    (:mod:`benchmarks.driver.resume_guard`). ``suite.yaml``, ``plan.json`` and the fingerprint are
    written once the backbones are pretrained.

    Raises:
        TimeUp: ``options.deadline`` (``--stop-after``) came before the suite was done; the
            run stopped between two trainings, and ``run.json`` records it as stopped.
    """
    started = options.started if options.started is not None else time.perf_counter()
    cache = options.cache_dir or default_cache_dir()
    checked = preflight(suite, cache, options)
    tasks, plan = checked.tasks, checked.plan
    out = options.results_root / suite.name
    seeds = folder_seeds(out, suite.sampler_seed)  # an older folder keeps the suite's seed
    current = fingerprint(suite, tasks, seeds.way)
    rewrite = check_same_suite(out, current, options.extend)
    splits = make_all_splits(suite, tasks, plan)
    check_splits_kept(out, suite, tasks, splits)
    new_folder = not out.exists()  # removed again if its run cannot start
    writer, storage, storage_spec, tracker = _open_outputs(suite, options, out)
    grid = cells(suite, plan)
    trials, cell_keys = writer.read("trials"), {_cell_id(c): c.key for c in grid}
    check_storage_knows_rows(trials, cell_keys, storage, masked_url(storage_spec))
    check_owned(trials, cell_keys, storage, out, folder_id(out), masked_url(storage_spec))
    if not options.worker:
        upgrade_tables(out)  # a folder of an older ftbench gets this version's columns
    weights = {c.key: c.n_train + validation_size(c.n_train, len(tasks[c.dataset].classes),
                                                  suite.val_fraction) for c in grid}
    progress = Progress(_budget(suite, grid, weights, cache, writer), enabled=options.progress)
    stopped: TimeUp | None = None
    placement = None
    try:
        pretrained = {**checked.weights,
                      **_pretrain_first(suite, cache, progress, out if new_folder else None)}
        _record_start(out, suite, grid, current if rewrite else None, storage_spec, options,
                      seeds)
        claim_studies(storage, [c.key for c in grid], make_folder_id(out), out,
                      masked_url(storage_spec))
        uri = default_uri(out)
        tracker = tracker or Tracker(uri, f"ftbench/{suite.name}", artifacts_dir(out, uri))
        models = {ref.key: ref.name for ref in suite.backbones}
        formats = _memory_formats(suite, pretrained, tasks, cache)
        write_backbone_costs(out, suite, pretrained, tasks, formats)
        inputs = _inputs(tasks, pretrained)
        data_cache = CellData()  # every cell's trainings share the last images placed
        runs = [CellRun(cell, suite.name, suite.regime(cell.n_train),
                        inputs[cell.dataset, pretrained[cell.backbone].input_size],
                        splits[cell.dataset][cell.n_train], pretrained[cell.backbone].path,
                        models[cell.backbone], dataclasses.replace(
                            suite.train_config(cell.size),
                            channels_last=formats[cell.backbone].channels_last),
                        tracker, writer, progress, data_cache) for cell in grid]
        placement = plan_placement({r.cell.key: image_bytes(r) for r in runs},
                                   suite.train.device, options.n_workers)
        for key, reason in placement["on_host"].items():
            progress.warn(f"{key}: its images stay on the host ({reason})")
        time_box = TimeBox(options.deadline, out)
        helpers = spawn_workers(out / "suite.yaml", options, tracker.uri, storage_spec, cache)
        try:
            run_grid(suite, runs, storage, options.stale_after_s, seeds, time_box)
        except TimeUp as exc:  # between two trainings: this invocation's time is still recorded
            stopped = exc
        finally:
            wait_for_workers(helpers, progress)
    finally:
        progress.close()
    if not options.worker:
        write_run_info(suite, out, started, pretrained, inputs, plan, formats,
                       stopped=stopped is not None, placement=placement)
    if stopped is not None:
        raise stopped
    return out


def _memory_formats(suite: Suite, pretrained: dict[str, Pretrained],
                    tasks: dict[str, TaskData], cache: Path) -> dict[str, FormatChoice]:
    """The memory format each backbone trains in: the suite's, or measured once and cached
    (:mod:`benchmarks.models.memory_format`)."""
    n_classes = len(next(iter(tasks.values())).classes)
    return {ref.key: choose_format(
        suite.train.channels_last, functools.partial(create_backbone, ref.name, n_classes),
        pretrained[ref.key].input_size, suite.train.batch_size, suite.train.device, cache,
        ref.name) for ref in suite.backbones}


def _cell_id(cell: Cell) -> tuple[str, str, int, str]:
    """A cell as the columns of its rows name it."""
    return cell.backbone, cell.dataset, cell.n_train, cell.strategy


def _record_start(out: Path, suite: Suite, grid: list[Cell], current: dict | None,
                  storage_spec: str, options: RunOptions, seeds: SamplerSeeds) -> None:
    """The fingerprint (when new or extended), then, from the run itself (workers read them),
    ``suite.yaml`` as it runs and ``plan.json``."""
    if current is not None:
        write_fingerprint(out, current)
    if not options.worker:
        (out / "suite.yaml").write_text(yaml.safe_dump(suite.to_dict(), sort_keys=False))
        write_plan(out, suite, grid, masked_url(storage_spec), seeds)


def _open_outputs(suite: Suite, options: RunOptions,
                  out: Path) -> tuple[ResultsWriter, Storage, str, Tracker | None]:
    """The results folder, the Optuna storage and the MLflow server, opened in an order that
    writes nothing into ``out`` when one of them is wrong (each raises a one-line error). The
    tracker is None for the default store in ``out``, which is made once work starts."""
    if options.report:
        check_report_folder(out)
    check_tables(out)
    spec = options.storage or str((out / "optuna.journal").resolve())
    check_journal_exists(spec, out)
    storage = make_storage(options.storage) if options.storage else None
    tracker = None
    if options.mlflow_uri:
        check_reachable(options.mlflow_uri)
        tracker = Tracker(options.mlflow_uri, f"ftbench/{suite.name}",
                          artifacts_dir(out, options.mlflow_uri))
    writer = ResultsWriter(out)
    storage = storage or make_storage(spec)
    return writer, storage, spec, tracker


def _inputs(tasks: dict[str, TaskData], pretrained: dict[str, Pretrained]) -> dict:
    """Every dataset resized once to each backbone's input size, shared by all its trials."""
    sizes = {p.input_size for p in pretrained.values()}
    return {(key, size): resize_task(task, size) for key, task in tasks.items() for size in sizes}


def _pretrain_first(suite: Suite, cache: Path, progress: Progress,
                    made: Path | None) -> dict[str, Pretrained]:
    """:func:`_pretrain_all`; if it fails (a pretraining that diverges, a cache that fills
    up), the results folder ``made`` by this run, holding only an empty journal, is removed:
    nothing is left of a run that could not start."""
    try:
        return _pretrain_all(suite, cache, progress)
    except BaseException:
        journal = made / "optuna.journal" if made is not None else None
        if journal is not None and journal.is_file() and journal.stat().st_size == 0:
            journal.unlink()
            with contextlib.suppress(OSError):
                made.rmdir()  # only if nothing else is in it
        raise


def _ftbench_backbones(suite: Suite) -> list[BackboneRef]:
    """The backbones whose weights ftbench pretrains itself."""
    return [ref for ref in suite.backbones if ref.kind == "ftbench"]


def _pretrain_all(suite: Suite, cache: Path, progress: Progress) -> dict[str, Pretrained]:
    """ftbench's own pretrained checkpoint of each backbone that asks for one (cached)."""
    out = {}
    for ref in _ftbench_backbones(suite):
        backbone = ref.name
        cfg = dataclasses.replace(suite.pretrain, backbone=backbone)
        progress.start(f"pretraining {backbone} on {cfg.dataset}",
                       weight=_pretrain_images(suite))
        done = ensure_pretrained(cfg, cache, report=lambda e, m: progress.epoch())
        meta = done.meta
        progress.finish(cfg.epochs if not meta["cached"] else 0)
        state = "cached" if meta["cached"] else f"trained in {meta['train_time_s']:.0f}s"
        progress.write(f"pretrained {backbone} on {cfg.dataset}: source test accuracy "
                       f"{meta['source_test_acc']:.3f} ({state}), input {done.input_size}px "
                       f"-> {done.path}")
        out[ref.key] = dataclasses.replace(done, input_size=ref.input_size or done.input_size)
    return out


def _budget(suite: Suite, grid: list, runs_images: dict[str, int], cache: Path,
            writer: ResultsWriter) -> int:
    """Upper bound of the image-epochs left to run, for the progress bar's ETA: each
    budgeted epoch weighs the images it trains and scores (:mod:`benchmarks.driver.progress`).
    """
    pretrain = sum(
        suite.pretrain.epochs * _pretrain_images(suite) for ref in _ftbench_backbones(suite)
        if not checkpoint_path(dataclasses.replace(suite.pretrain, backbone=ref.name),
                               cache).exists()
    )
    per_cell = suite.trials + len(suite.seeds)
    planned = sum(per_cell * suite.train_config(c.size).max_epochs * runs_images[c.key]
                  for c in grid)
    done = sum(_spent(writer.read(table)) for table in ("trials", "final"))
    return pretrain + max(0, int(planned - done))


def _spent(rows) -> float:
    """Image-epochs of the budget that rows of a results table used up."""
    if rows.empty:
        return 0.0
    return float((rows.max_epochs.astype(float) * (rows.n_train.astype(float)
                                                    + rows.n_val.astype(float))).sum())


def _pretrain_images(suite: Suite) -> int:
    """Images of the pretraining pool (an epoch of pretraining goes over them)."""
    options = suite.pretrain.dataset_options
    return len(load_dataset(suite.pretrain.dataset, **options).train.labels)
