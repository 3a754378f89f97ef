"""`ftbench status`: where a suite stands, from hand-built results folders."""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime, timezone

import pytest

from benchmarks.cli.status_text import _duration, format_status
from benchmarks.results.status import suite_status
from benchmarks.results.tables import TABLES

STARTED = "2026-11-27T15:12:47+00:00"
UPDATED = datetime(2026, 11, 27, 15, 40, 3, tzinfo=timezone.utc).timestamp()
A = ("test_resnet", "synth_near", 30, "feature_extraction", 10)  # backbone .. strategy, epochs
B = ("test_resnet", "synth_near", 30, "full", 10)
C = ("test_resnet", "synth_far", 100, "lora", 5)


def _key(cell):
    return f"{cell[0]}/{cell[1]}/n{cell[2]}/{cell[3]}"


def _plan(folder, cells=(A, B, C), trials=4, seeds=(0, 1, 2)):
    folder.mkdir(parents=True, exist_ok=True)
    plan = {"suite": "demo", "trials_per_cell": trials, "seeds": list(seeds), "started": STARTED,
            "cells": [{"key": _key(c), "backbone": c[0], "dataset": c[1], "n_train": c[2],
                       "size": str(c[2]), "strategy": c[3], "max_epochs": c[4]} for c in cells]}
    (folder / "plan.json").write_text(json.dumps(plan))
    return folder


def _trial(cell, number, status="COMPLETE", epochs=10, time_s=100.0):
    """A trials.csv row; pruned and failed trials have no train_time_s, as the runner writes."""
    timed = status == "COMPLETE"
    return {**_cell_cols(cell), "trial": number, "status": status, "epochs_run": epochs,
            "max_epochs": cell[4], "train_time_s": time_s if timed else ""}


def _final(cell, seed, epochs=10, time_s=100.0):
    return {**_cell_cols(cell), "seed": seed, "trial": 0, "test_acc": 0.5,
            "epochs_run": epochs, "max_epochs": cell[4], "train_time_s": time_s}


def _cell_cols(cell):
    return {"suite": "demo", "backbone": cell[0], "dataset": cell[1], "n_train": cell[2],
            "size": str(cell[2]), "strategy": cell[3]}


def _write(folder, table, rows, mtime=UPDATED):
    path = folder / f"{table}.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TABLES[table])
        writer.writeheader()
        writer.writerows(rows)
    os.utime(path, (mtime, mtime))
    return path


def _done(cell, first_trial=0):
    trials = [_trial(cell, first_trial + i) for i in range(4)]
    return trials, [_final(cell, seed) for seed in (0, 1, 2)]


@pytest.mark.parametrize("files", ["none", "empty", "header only"])
def test_fresh_run_has_only_the_plan(tmp_path, files):
    folder = _plan(tmp_path / "demo")
    if files == "empty":
        (folder / "trials.csv").write_text("")
        (folder / "final.csv").write_text("")
    elif files == "header only":
        _write(folder, "trials", [])
        _write(folder, "final", [])
    status = suite_status(folder)
    assert (status.cells_done, status.cells_in_progress, status.cells_not_started) == (0, 0, 3)
    assert status.states == {"COMPLETE": 0, "PRUNED": 0, "FAIL": 0, "SKIPPED": 0}
    assert (status.trials_done, status.trials_planned) == (0, 12)
    assert (status.seeds_done, status.seeds_planned) == (0, 9)
    assert status.epochs_left == 7 * 10 + 7 * 10 + 7 * 5
    assert status.images_left == 70 * 30 + 70 * 30 + 35 * 100
    assert status.time_left_s is None
    text = format_status(status)
    assert ("time left: unknown until an epoch is timed (175 budgeted epochs, 7,700 training "
            "images, to go)") in text
    assert "time spent: 0s of training (sum of train_time_s)" in text
    if files == "none":
        assert "last update: none (no trials.csv or final.csv yet)" in text


def test_half_done_run_counts_cells_states_and_time_left(tmp_path):
    folder = _plan(tmp_path / "demo")
    trials_a, final_a = _done(A)
    trials = trials_a + [_trial(B, 0), _trial(B, 1, "PRUNED", epochs=3)]
    _write(folder, "final", final_a, mtime=UPDATED - 60)
    _write(folder, "trials", trials)
    status = suite_status(folder)
    # timed: 5 complete trials + 3 seeds, 10 epochs of 30 images in 100 s each -> 1/3 s per
    # image; B's pruned trial ran 3 epochs (90 images) untimed -> about 30 s more
    total = status.speed.total
    assert (total.time_s, total.timed_epochs, total.untimed_epochs) == (800.0, 80, 3)
    assert status.speed.seconds_per_image("full") == pytest.approx(1 / 3)
    assert status.speed.untimed_s == pytest.approx(30.0)
    # left: B has 2 trials + 3 seeds of 10 epochs of 30 images; C (lora, never timed: every
    # strategy's rate) 4 trials + 3 seeds of 5 epochs of 100 images
    assert status.epochs_left == 50 + 35
    assert status.images_left == 1500 + 3500
    assert status.time_left_s == pytest.approx(5000 / 3)
    # about: full's trials ran (300 + 90) of 600 budgeted image-epochs; lora has no row yet,
    # so every strategy's trials' share, (1,200 + 390) / 1,800; seeds ran their whole budget
    assert status.speed.budget_share("full", "trial") == pytest.approx(0.65)
    assert status.speed.budget_share("lora", "trial") == pytest.approx(1590 / 1800)
    assert status.speed.budget_share("lora", "final") == 1.0
    b_left = (2 * 300 * 0.65 + 3 * 300) / 3
    c_left = (4 * 500 * 1590 / 1800 + 3 * 500) / 3
    assert status.expected_left_s == pytest.approx(b_left + c_left)
    assert format_status(status).splitlines() == [
        "suite demo: 1/3 cells done, 1 in progress, 1 not started",
        "trials: 5 COMPLETE, 1 PRUNED, 0 FAIL, 0 SKIPPED (6 of 12)",
        "final seeds: 3 of 9",
        ("time spent: 13m of training (sum of train_time_s), "
         "plus about 30s for 3 untimed epochs of pruned/failed trials"),
        ("time left: about 25m at the pruning and early stopping seen so far, at most 28m "
         "(85 budgeted epochs, 5,000 training images, to go, at each strategy's measured "
         "seconds per image)"),
        ("last update: 2026-11-27 15:40:03 UTC (trials.csv); "
         "latest run started 2026-11-27 15:12:47 UTC (plan.json)"),
        "in progress:",
        "  test_resnet/synth_near/n30/full: trials 2/4, seeds 0/3",
    ]


def test_finished_run_has_nothing_left(tmp_path):
    folder = _plan(tmp_path / "demo")
    parts = [_done(cell) for cell in (A, B, C)]
    _write(folder, "trials", [r for trials, _ in parts for r in trials], mtime=UPDATED - 60)
    _write(folder, "final", [r for _, final in parts for r in final])
    status = suite_status(folder)
    assert (status.cells_done, status.cells_in_progress, status.cells_not_started) == (3, 0, 0)
    assert status.states["COMPLETE"] == 12
    assert (status.seeds_done, status.seeds_planned) == (9, 9)
    assert status.epochs_left == 0 and status.time_left_s == 0.0
    text = format_status(status)
    assert "time spent: 35m of training (sum of train_time_s)\n" in text  # 21 rows x 100 s
    assert "time left: none, no budgeted epoch is left" in text
    assert "last update: 2026-11-27 15:40:03 UTC (final.csv)" in text
    assert "in progress:" not in text


def test_cell_of_failed_and_pruned_trials_spends_its_budget(tmp_path):
    folder = _plan(tmp_path / "demo")
    trials_a, final_a = _done(A)
    failed = [_trial(B, 0, "FAIL", epochs=0), _trial(B, 1, "PRUNED", epochs=2),
              _trial(B, 2, "FAIL", epochs=1), _trial(B, 3, "PRUNED", epochs=2)]
    _write(folder, "trials", trials_a + failed)
    _write(folder, "final", final_a)
    status = suite_status(folder)
    assert status.states == {"COMPLETE": 4, "PRUNED": 2, "FAIL": 2, "SKIPPED": 0}
    cell_b = status.cells[1]
    assert (cell_b.trials_done, cell_b.seeds_owed, cell_b.done) == (4, 0, True)
    assert (status.cells_done, status.cells_in_progress, status.cells_not_started) == (2, 0, 1)
    assert (status.seeds_done, status.seeds_planned) == (3, 6)  # B owes no seed: no best trial
    assert status.speed.total.untimed_epochs == 5
    assert status.epochs_left == 35  # only C
    text = format_status(status)
    assert "no COMPLETE trial, so no final seeds: test_resnet/synth_near/n30/full" in text


def test_failed_trials_before_the_budget_is_spent_still_owe_seeds(tmp_path):
    folder = _plan(tmp_path / "demo", cells=(B,))
    _write(folder, "trials", [_trial(B, 0, "FAIL", epochs=0), _trial(B, 1, "SKIPPED", epochs=0)])
    status = suite_status(folder)
    assert (status.cells_done, status.cells_in_progress) == (0, 1)
    assert status.epochs_left == (2 + 3) * 10
    assert "  test_resnet/synth_near/n30/full: trials 2/4, seeds 0/3" in format_status(status)


def test_multi_worker_rows_interleave_and_a_row_may_be_half_written(tmp_path):
    folder = _plan(tmp_path / "demo")
    trials = [_trial(A, 0), _trial(B, 0), _trial(B, 2), _trial(A, 1, "PRUNED", epochs=4),
              {**_trial(A, 2), "n_train": "30.0"}, _trial(B, 1), _trial(A, 3),
              _trial(("other", "synth_near", 30, "full", 10), 0)]  # a cell not in the plan
    final = [_final(A, 2), _final(B, 0), _final(A, 0), _final(A, 7)]  # 7: no seed
    _write(folder, "trials", trials)
    path = _write(folder, "final", final)
    with path.open("a") as fh:  # another worker is writing its next row
        fh.write("demo,test_resnet,synth_near,near,30,30,<1k,full,1,0")
    status = suite_status(folder)
    cell_a, cell_b, cell_c = status.cells
    assert (cell_a.trials_done, cell_a.seeds_done, cell_a.done) == (4, 2, False)
    assert (cell_b.trials_done, cell_b.seeds_done, cell_b.done) == (3, 1, False)
    assert not cell_c.started
    assert status.states == {"COMPLETE": 6, "PRUNED": 1, "FAIL": 0, "SKIPPED": 0}
    assert status.ignored_rows == 2
    assert status.epochs_left == 1 * 10 + (1 + 2) * 10 + 7 * 5
    text = format_status(status)
    assert "ignored: 2 rows of cells or seeds not in plan.json" in text
    assert "in progress:\n  test_resnet/synth_near/n30/feature_extraction: trials 4/4, " \
           "seeds 2/3\n  test_resnet/synth_near/n30/full: trials 3/4, seeds 1/3" in text


def test_missing_folder_says_to_run_the_suite(tmp_path):
    with pytest.raises(ValueError, match=r"nowhere'.*must exist.*ftbench run SUITE") as err:
        suite_status(tmp_path / "nowhere")
    assert "\n" not in str(err.value)


def test_missing_plan_says_it_is_written_when_a_run_starts(tmp_path):
    (tmp_path / "demo").mkdir()
    _write(tmp_path / "demo", "trials", [_trial(A, 0)])
    with pytest.raises(ValueError, match=r"must hold plan\.json.*written when a run starts"):
        suite_status(tmp_path / "demo")


@pytest.mark.parametrize("content", [
    "{not json", "[1, 2]", '{"suite": "demo"}',
    '{"suite": "demo", "trials_per_cell": "4", "seeds": [0], "cells": []}',
    '{"suite": "demo", "trials_per_cell": 4, "seeds": [0], "cells": [{"backbone": "x"}]}',
    '{"suite": "demo", "trials_per_cell": 4, "seeds": [0], "cells": [], "started": "May"}',
])
def test_corrupt_plan_names_the_file(tmp_path, content):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "plan.json").write_text(content)
    with pytest.raises(ValueError, match=r"plan file '.*plan\.json'.*ftbench run SUITE") as err:
        suite_status(folder)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.4, "0s"), (45, "45s"), (59.6, "1m"), (38 * 60 + 10, "38m"), (3725, "1h 02m"),
    (26 * 3600, "26h 00m"),
])
def test_durations_read_like_a_clock(seconds, shown):
    assert _duration(seconds) == shown


def test_status_imports_first_in_a_fresh_interpreter():
    """The report's warning on unfinished runs uses benchmarks.results.status, which
    `ftbench status` imports first: either order must work (no import cycle)."""
    import subprocess
    import sys

    for module in ("benchmarks.results.status", "report"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stderr[-500:]


def test_time_left_takes_each_strategys_own_speed_per_image(tmp_path):
    """Feature extraction at 1 s per 300 image-epochs, full fine-tuning at 100 s: what is
    left of full fine-tuning is priced at its own rate, not at the average of both."""
    folder = _plan(tmp_path / "demo", cells=(A, B))
    trials_a, final_a = _done(A)
    trials_a = [{**row, "train_time_s": 1.0} for row in trials_a]
    final_a = [{**row, "train_time_s": 1.0} for row in final_a]
    _write(folder, "trials", trials_a + [_trial(B, 0, time_s=100.0)])
    _write(folder, "final", final_a)
    status = suite_status(folder)
    assert status.speed.seconds_per_image("feature_extraction") == pytest.approx(1 / 300)
    assert status.speed.seconds_per_image("full") == pytest.approx(1 / 3)
    # B: 3 trials + 3 seeds of 10 epochs of 30 images, at 1/3 s each
    assert status.time_left_s == pytest.approx(600.0)
    assert status.expected_left_s == pytest.approx(600.0)  # every row ran its whole budget
    assert "time left: about 10m at the pruning and early stopping seen so far, at most 10m" \
        in format_status(status)
