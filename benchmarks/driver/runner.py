"""Run a suite: preflight, pretraining, the tuned grid, final seeds, then the report."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from pathlib import Path

import yaml

from benchmarks.data import TaskData, load_dataset, validation_size
from benchmarks.data.resize import resize_task
from benchmarks.driver.cell import CellRun, image_bytes
from benchmarks.driver.cell_data import CellData
from benchmarks.driver.cells_run import run_grid
from benchmarks.driver.costs_table import write_backbone_costs
from benchmarks.driver.options import RunOptions
from benchmarks.driver.ownership import claim_studies
from benchmarks.driver.progress import Progress
from benchmarks.driver.reach_run import run_within_reach
from benchmarks.driver.run_info import git_commit, write_plan, write_run_info
from benchmarks.driver.run_start import Preflight, Started, preflight, start_run
from benchmarks.driver.time_box import TimeBox, TimeUp
from benchmarks.driver.tracking import Tracker, artifacts_dir, default_uri
from benchmarks.driver.workers import spawn_workers, wait_for_workers
from benchmarks.engine.placement import plan_placement
from benchmarks.messages import masked_url
from benchmarks.models.backbones import create_backbone
from benchmarks.models.memory_format import FormatChoice, choose_format
from benchmarks.models.pretrain import (
    Pretrained,
    checkpoint_path,
    default_cache_dir,
    ensure_pretrained,
)
from benchmarks.models.ref import BackboneRef
from benchmarks.results.fingerprint import make_folder_id
from benchmarks.results.fingerprint import write as write_fingerprint
from benchmarks.results.folder_state import FolderState
from benchmarks.results.tables import upgrade_tables
from benchmarks.suite.model import Suite

__all__ = ["Preflight", "RunOptions", "preflight", "run_suite"]
"""``RunOptions`` and ``preflight`` live in :mod:`benchmarks.driver.options` and
:mod:`benchmarks.driver.run_start`; they are offered here too, beside the entry."""


def run_suite(suite: Suite, options: RunOptions) -> Path:
    """Run (or resume) every cell of ``suite``; return its results folder.

    Every check comes before any work or write (:func:`benchmarks.driver.run_start.start_run`):
    names, data, devices and weights, then that the results folder, read once, holds this
    same suite and the storage its trials. ``suite.yaml``, ``plan.json`` and the fingerprint
    are written once the backbones are pretrained.

    Raises:
        TimeUp: ``options.deadline`` (``--stop-after``) came before the suite was done; the
            run stopped between two trainings, and ``run.json`` records it as stopped.
    """
    started = options.started if options.started is not None else time.perf_counter()
    commit = None if options.worker else git_commit()  # the code this invocation runs
    cache = options.cache_dir or default_cache_dir()
    begun = start_run(suite, options, cache)
    tasks, plan, out, grid = begun.checked.tasks, begun.checked.plan, begun.out, begun.grid
    if not options.worker:
        upgrade_tables(out)  # a folder of an older ftbench gets this version's columns
    weights = {c.key: c.n_train + validation_size(c.n_train, len(tasks[c.dataset].classes),
                                                  suite.val_fraction) for c in grid}
    progress = Progress(_budget(suite, grid, weights, cache, begun.start.folder),
                        enabled=options.progress)
    stopped: TimeUp | None = None
    placement = None
    try:
        made = None if begun.start.folder.existed else out
        pretrained = {**begun.checked.weights, **_pretrain_first(suite, cache, progress, made)}
        _record_start(begun, suite, options)
        uri = default_uri(out)
        tracker = begun.tracker or Tracker(uri, f"ftbench/{suite.name}", artifacts_dir(out, uri))
        formats = _memory_formats(suite, pretrained, tasks, cache)
        write_backbone_costs(out, suite, pretrained, tasks, formats)
        inputs = _inputs(tasks, pretrained)
        runs = _cell_runs(suite, begun, pretrained, inputs, formats, tracker, progress)
        placement = plan_placement({r.cell.key: image_bytes(r) for r in runs},
                                   suite.train.device, options.n_workers)
        for key, reason in placement["on_host"].items():
            progress.warn(f"{key}: its images stay on the host ({reason})")
        folder = begun.start.folder  # its rows before this run were timed by older ones
        time_box = TimeBox(options.deadline, (len(folder.trials), len(folder.final)))
        helpers = spawn_workers(out / "suite.yaml", options, tracker.uri, begun.storage_spec,
                                cache)
        try:
            run_grid(suite, runs, begun.storage, options.stale_after_s, begun.seeds, time_box)
            run_within_reach(suite, runs, begun.storage, options.stale_after_s, begun.seeds,
                             time_box)
        except TimeUp as exc:  # between two trainings: this invocation's time is still recorded
            stopped = exc
        finally:
            wait_for_workers(helpers, progress)
    finally:
        progress.close()
    if not options.worker:
        write_run_info(suite, out, started, pretrained, inputs, plan, formats, commit,
                       stopped=stopped is not None, placement=placement)
    if stopped is not None:
        raise stopped
    return out


def _cell_runs(suite: Suite, begun: Started, pretrained: dict[str, Pretrained], inputs: dict,
               formats: dict[str, FormatChoice], tracker: Tracker,
               progress: Progress) -> list[CellRun]:
    """What each cell's trainings take; every cell shares the last images placed."""
    models = {ref.key: ref.name for ref in suite.backbones}
    data_cache = CellData()
    return [CellRun(cell, suite.name, suite.regime(cell.n_train),
                    inputs[cell.dataset, pretrained[cell.backbone].input_size],
                    begun.splits[cell.dataset][cell.n_train], pretrained[cell.backbone].path,
                    models[cell.backbone], dataclasses.replace(
                        suite.train_config(cell.size),
                        channels_last=formats[cell.backbone].channels_last),
                    tracker, begun.writer, progress, data_cache) for cell in begun.grid]


def _memory_formats(suite: Suite, pretrained: dict[str, Pretrained],
                    tasks: dict[str, TaskData], cache: Path) -> dict[str, FormatChoice]:
    """The memory format each backbone trains in: the suite's, or measured once and cached
    (:mod:`benchmarks.models.memory_format`)."""
    n_classes = len(next(iter(tasks.values())).classes)
    return {ref.key: choose_format(
        suite.train.channels_last, functools.partial(create_backbone, ref.name, n_classes),
        pretrained[ref.key].input_size, suite.train.batch_size, suite.train.device, cache,
        ref.name) for ref in suite.backbones}


def _record_start(begun: Started, suite: Suite, options: RunOptions) -> None:
    """The fingerprint (when new or extended), then, from the run itself (workers read them),
    ``suite.yaml`` as it runs and ``plan.json``; and the folder's id in each study of the grid.
    """
    out, shown = begun.out, masked_url(begun.storage_spec)
    if begun.new_fingerprint is not None:
        write_fingerprint(out, begun.new_fingerprint)
    if not options.worker:
        (out / "suite.yaml").write_text(yaml.safe_dump(suite.to_dict(), sort_keys=False))
        write_plan(out, suite, begun.grid, shown, begun.seeds)
    claim_studies(begun.storage, [c.key for c in begun.grid], make_folder_id(out), out, shown)


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
            folder: FolderState) -> int:
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
    final = folder.tables["final"]  # the second stage's seeds join the bar when they are due
    first = final[final["seed"].astype(int).isin(suite.seeds)] if not final.empty else final
    done = _spent(folder.tables["trials"]) + _spent(first)
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
