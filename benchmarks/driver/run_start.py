"""The start of a run, in one place and one order: every check before any work or write.

Names, data, devices and weights first (:func:`preflight`); then the results folder, read
once (:func:`benchmarks.results.folder_state.read_folder`), must hold this same suite and its
splits (:mod:`benchmarks.driver.resume_guard`); then the storage, the tracking server and the
folder are opened, the storage's studies of the grid read once
(:func:`benchmarks.driver.ownership.read_studies`), and the two must agree: the storage holds
every trial the folder has rows of, and no study belongs to another folder. Each check takes
the one :class:`RunStart` value (or its folder), so none reads a file again.

A trial that the storage finished but whose row never reached ``trials.csv`` is not refused
here but run again, when its cell is visited (:func:`benchmarks.driver.tuning.retry_lost`):
other workers may be writing rows meanwhile, so that check reads the cell's rows after its
trials, at the moment it acts on them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.data import TaskData
from benchmarks.driver.cell import Cell, cell_id
from benchmarks.driver.grid import Plan, cells, make_all_splits, resolve_plan
from benchmarks.driver.machine import check_cache_dir, check_device
from benchmarks.driver.options import RunOptions
from benchmarks.driver.ownership import StudyState, check_owned, read_studies
from benchmarks.driver.resume_guard import (
    check_journal_exists,
    check_same_suite,
    check_splits_kept,
    check_storage_knows_rows,
)
from benchmarks.driver.seeding import SamplerSeeds, folder_seeds
from benchmarks.driver.storage import Storage, make_storage
from benchmarks.driver.tracking import Tracker, artifacts_dir, check_reachable
from benchmarks.messages import masked_url
from benchmarks.models.backbones import check_backbone_name
from benchmarks.models.pretrain import Pretrained, default_cache_dir
from benchmarks.models.weights import resolve_weights
from benchmarks.results.csv_check import CellId
from benchmarks.results.fingerprint import fingerprint
from benchmarks.results.folder_state import FolderState, read_folder
from benchmarks.results.layout import check_report_folder
from benchmarks.results.tables import ResultsWriter
from benchmarks.suite.model import Suite
from strategies import get_strategy


@dataclass(frozen=True)
class Preflight:
    """What the checks before any work found: data, sizes, and weights not trained here."""

    tasks: dict[str, TaskData]
    plan: Plan
    weights: dict[str, Pretrained]  # backbone key -> hub, file or no weights


@dataclass(frozen=True, eq=False)
class RunStart:
    """The results folder and the storage's studies of the grid, as the run found them.

    Attributes:
        folder: the results folder, read once.
        studies: each study of the grid that the storage holds, by name.
        cell_keys: each cell of the grid, as its rows name it (backbone, dataset, n_train,
            strategy) -> its key (its study's name).
    """

    folder: FolderState
    studies: dict[str, StudyState]
    cell_keys: dict[CellId, str]


@dataclass(frozen=True, eq=False)
class Started:
    """A run that passed every check: what its work takes.

    Attributes:
        checked: the data, sizes and weights (:func:`preflight`).
        start: the folder and the storage as found.
        grid: the cells in run order.
        splits: per dataset, each size's training and validation split.
        seeds: how the cells' samplers are seeded.
        new_fingerprint: the fingerprint to write once the work starts; None to keep the
            folder's.
        writer: the folder's tables.
        storage: the Optuna storage; ``storage_spec`` names it as given.
        tracker: the MLflow server given, or None for the folder's own store.
    """

    checked: Preflight
    start: RunStart
    grid: list[Cell]
    splits: dict[str, dict]
    seeds: SamplerSeeds
    new_fingerprint: dict | None
    writer: ResultsWriter
    storage: Storage
    storage_spec: str
    tracker: Tracker | None

    @property
    def out(self) -> Path:
        """The results folder."""
        return self.start.folder.path


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


def start_run(suite: Suite, options: RunOptions, cache: Path) -> Started:
    """Every check of a run's start, in order; the outputs it opened.

    Raises:
        ValueError: one line naming what is wrong and how to fix it; nothing was written
            into the results folder (the storage, when given, may have been opened).
    """
    checked = preflight(suite, cache, options)
    tasks = checked.tasks
    folder = read_folder(options.results_root / suite.name)
    seeds = folder_seeds(folder, suite.sampler_seed)  # an older folder keeps the suite's seed
    current = fingerprint(suite, tasks, seeds.way)
    rewrite = check_same_suite(folder, current, options.extend)
    splits = make_all_splits(suite, tasks, checked.plan)
    check_splits_kept(folder, suite, tasks, splits)
    writer, storage, spec, tracker = _open_outputs(suite, options, folder)
    grid = cells(suite, checked.plan)
    start = RunStart(folder, read_studies(storage, [c.key for c in grid]),
                     {cell_id(c): c.key for c in grid})
    check_storage_knows_rows(start, masked_url(spec))
    check_owned(start, masked_url(spec))
    return Started(checked, start, grid, splits, seeds, current if rewrite else None, writer,
                   storage, spec, tracker)


def _open_outputs(suite: Suite, options: RunOptions,
                  folder: FolderState) -> tuple[ResultsWriter, Storage, str, Tracker | None]:
    """The results folder, the Optuna storage and the MLflow server, opened in an order that
    writes nothing into the folder when one of them is wrong (each raises a one-line error).
    The tracker is None for the default store in the folder, which is made once work starts."""
    out = folder.path
    if options.report:
        check_report_folder(out)
    spec = options.storage or str((out / "optuna.journal").resolve())
    check_journal_exists(spec, folder)
    storage = make_storage(options.storage) if options.storage else None
    tracker = None
    if options.mlflow_uri:
        check_reachable(options.mlflow_uri)
        tracker = Tracker(options.mlflow_uri, f"ftbench/{suite.name}",
                          artifacts_dir(out, options.mlflow_uri))
    writer = ResultsWriter(out)
    storage = storage or make_storage(spec)
    return writer, storage, spec, tracker
