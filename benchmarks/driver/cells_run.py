"""The tuned grid in one worker: each cell's trials, then its final seeds, with other
workers on the same storage (cells whose last trials run elsewhere are visited again)."""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks.driver import liveness, seed_study, tuning
from benchmarks.driver.cell import (
    CellRun,
    cell_id,
    close_parent,
    images,
    make_objective,
    progress_label,
    strategy_context,
    trial_rows,
)
from benchmarks.driver.final_run import run_final
from benchmarks.driver.interrupted import interrupted_run_id, record_interrupted
from benchmarks.driver.seeding import SamplerSeeds
from benchmarks.driver.summary import cell_summary
from benchmarks.driver.time_box import UNLIMITED, TimeBox
from benchmarks.engine.memory import is_out_of_memory, out_of_memory_reason, release_memory
from benchmarks.messages import disk_full
from benchmarks.results.tables import values_by_cell
from benchmarks.suite.model import Suite
from strategies import get_strategy

WAIT_S = 2.0
"""Seconds between visits of cells that wait on other workers."""


def run_grid(suite: Suite, runs: list[CellRun], storage: tuning.Storage,
             stale_after_s: float, seeds: SamplerSeeds, time_box: TimeBox = UNLIMITED,
             final_seeds: tuple[int, ...] | None = None) -> None:
    """Every cell in order; cells waiting on other workers are visited again until done
    (``seeds``: each cell's sampler seed; ``time_box``: raises
    :class:`~benchmarks.driver.time_box.TimeUp` before a training that would end too late;
    ``final_seeds``: the seeds each cell's best configuration runs, the suite's by default)."""
    pending = list(enumerate(runs, start=1))
    while pending:
        waiting = []
        for index, run in pending:
            run.progress.set_cell(index, len(runs))
            if not run_cell(suite, run, storage, stale_after_s, seeds, time_box, final_seeds):
                waiting.append((index, run))
        if waiting:
            time_box.check_wait(waiting[0][1], WAIT_S)
            time.sleep(WAIT_S)
        pending = waiting


def run_cell(suite: Suite, run: CellRun, storage: tuning.Storage, stale_after_s: float,
             seeds: SamplerSeeds, time_box: TimeBox = UNLIMITED,
             final_seeds: tuple[int, ...] | None = None) -> bool:
    """Tune one cell, then retrain its best configuration over ``final_seeds`` (the suite's
    seeds by default).

    Returns False when the cell must wait: its last trials still run in another worker, so
    its best configuration is not known yet, or one of its final seeds does, so its rows are
    not all in (a cell is never reported done without them).
    """
    ctx = strategy_context(run)
    study = tuning.open_study(run.cell.key, storage, seeds.of(run.cell.key), suite.pruner,
                              suite.trials, run.train_cfg.max_epochs)
    strategy_cls = get_strategy(run.cell.strategy)
    tuning.enqueue_default(study, strategy_cls(strategy_cls.default_config(ctx)).search_params())
    for trial in liveness.stale_trials(study, stale_after_s):
        record_interrupted(run, trial, tuning.fail_and_retry(study, trial))
    tuning.retry_lost(study, lambda: trial_rows(run))  # in Optuna, but its row never written
    tuning.optimize(study, make_objective(run, ctx), suite.trials, time_box.gate(run, "trial"))
    if tuning.running_elsewhere(study):
        return False
    if not run_finals(suite, run, storage, stale_after_s, tuning.best_config(study),
                      time_box.gate(run, "final"), final_seeds):
        return False
    run.progress.cell_done(_done_line(run))
    return True


def _done_line(run: CellRun) -> str:
    """``lite0/cifar5/n250/lora: best val 0.620, test 0.601 over 3 seeds``."""
    facts = cell_summary(run)
    parts = [f"best val {facts['best_val_acc']:.3f}"] if "best_val_acc" in facts else []
    if "test_acc_mean" in facts:
        seeds = int(facts["n_seeds"])
        parts.append(f"test {facts['test_acc_mean']:.3f} over {seeds} seed{'s' * (seeds != 1)}")
    return f"{run.cell.key}: " + (", ".join(parts) or "no complete trial")


def run_finals(suite: Suite, run: CellRun, storage: tuning.Storage, stale_after_s: float,
                best: tuple[int, dict] | None,
                before: Callable[[], None] = lambda: None,
                final_seeds: tuple[int, ...] | None = None) -> bool:
    """Claim and run the seeds of ``final_seeds`` (the suite's by default) not yet in
    ``final.csv``; close the cell when all are in. ``before()`` is called before each seed
    is claimed (``--stop-after``'s check).

    Returns False while a seed still runs in another worker (or in a process that died so
    recently that it is not yet known to be gone: :func:`benchmarks.driver.liveness.stale_trials`).
    """
    finals = seed_study.open_finals(run.cell.key, storage)
    for trial in liveness.stale_trials(finals, stale_after_s):
        tuning.fail(finals, trial)
        seed = trial.user_attrs.get(seed_study.SEED)  # none: killed while voiding a late claim
        run_id = "" if seed is None else interrupted_run_id(run, trial, f"final seed {seed}")
        if run_id:
            run.tracker.end_run(run_id, "KILLED")
    wanted = suite.seeds if final_seeds is None else final_seeds
    missing = [s for s in wanted if s not in final_seeds_done(run)]
    if best is not None and missing:
        seed_study.offer_seeds(finals, missing)
        while (claim := seed_study.claim_seed(finals, before)) is not None:
            trial, seed = claim
            run_seed(run, best, trial, seed, finals, pictures=seed == min(suite.seeds))
    if best is not None and tuning.running_elsewhere(finals):
        return False
    all_in = final_seeds_done(run) >= set(wanted)
    # FAILED: a seed failed (a warning said so); running the suite again retries it
    close_parent(run, "FINISHED" if best is None or all_in else "FAILED")
    return True


def run_seed(run: CellRun, best: tuple[int, dict], trial, seed: int, finals,
             pictures: bool = False) -> None:
    """One final re-run; a failure is a warning on stderr, never the end of the suite.
    ``pictures``: also save its features and Grad-CAM maps (the cell's first seed)."""
    run.progress.start(f"{progress_label(run)} seed {seed}",  # claim_seed marked it alive
                       weight=images(run))
    failure = None
    try:
        with liveness.heartbeat(trial):
            row = run_final(run, best[0], best[1], seed,
                            on_start=lambda run_id: liveness.mark_alive(trial, run_id),
                            pictures=pictures)
        tuning.tell(finals, trial, row["test_acc"])
    except Exception as exc:
        tuning.tell(finals, trial, state=tuning.TrialState.FAIL)
        if disk_full(exc):  # every next seed would fail alike: stop, say so, resume later
            raise
        failure = out_of_memory_reason(exc) if is_out_of_memory(exc) else \
            f"{type(exc).__name__}: {exc}"
    except BaseException:
        tuning.tell(finals, trial, state=tuning.TrialState.FAIL)
        raise
    finally:
        run.progress.finish(run.train_cfg.max_epochs)
    if failure is not None:  # the failed run's tensors are unreferenced by now
        release_memory()
        run.progress.warn(f"{run.cell.key}: final seed {seed} failed and is left out of "
                          f"final.csv: {failure}")


def final_seeds_done(run: CellRun) -> set[int]:
    """Seeds of this cell already in ``final.csv`` (resume)."""
    return values_by_cell(run.writer.read("final"), "seed").get(cell_id(run.cell), set())
