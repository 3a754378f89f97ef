"""A suite's second stage: its ``seeds_within_reach`` run in every cell of a backbone x
dataset x size whose guideline verdict the first seeds left within reach
(:mod:`benchmarks.results.reach`), once every cell has its first seeds."""

from __future__ import annotations

from benchmarks.driver import tuning
from benchmarks.driver.cell import CellRun, cell_id, images
from benchmarks.driver.cells_run import run_grid
from benchmarks.driver.seeding import SamplerSeeds
from benchmarks.driver.time_box import UNLIMITED, TimeBox
from benchmarks.results.reach import Size, within_reach
from benchmarks.results.tables import values_by_cell
from benchmarks.suite.model import Suite


def run_within_reach(suite: Suite, runs: list[CellRun], storage: tuning.Storage,
                     stale_after_s: float, seeds: SamplerSeeds,
                     time_box: TimeBox = UNLIMITED) -> list[CellRun]:
    """Run the extra seeds where they are due; return the cells that get them.

    Every process of a run makes the same choice from ``final.csv`` (the first seeds' rows)
    and claims the seeds as in the first stage, so workers share the work.
    """
    if not suite.seeds_within_reach or not runs:
        return []
    final = runs[0].writer.read("final")
    chosen = within_reach(final, suite.strategies, suite.seeds, suite.seeds_within_reach,
                          suite.margin)
    picked = [run for run in runs if size_of(run) in chosen]
    if not picked:
        return []
    every = (*suite.seeds, *suite.seeds_within_reach)
    done = values_by_cell(final, "seed")  # read once for the choice and what it owes
    owed = {run.cell.key: len(set(every) - done.get(cell_id(run.cell), set()))
            for run in picked}
    progress = picked[0].progress
    progress.add(sum(owed[run.cell.key] * run.train_cfg.max_epochs * images(run)
                     for run in picked))
    for backbone, dataset, n_train in sorted({size_of(r) for r in picked if owed[r.cell.key]}):
        progress.write(f"{backbone}/{dataset}/n{n_train}: its guideline verdict is within "
                       f"reach of {len(every)} seeds; its cells run seeds "
                       f"{list(suite.seeds_within_reach)} too")
    run_grid(suite, picked, storage, stale_after_s, seeds, time_box, every)
    return picked


def size_of(run: CellRun) -> Size:
    """The verdict a cell belongs to: (backbone, dataset, n_train)."""
    return run.cell.backbone, run.cell.dataset, run.cell.n_train
