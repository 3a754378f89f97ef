"""The suite progress bar counts every budgeted epoch exactly once."""

from __future__ import annotations

from benchmarks.driver.progress import Progress


def test_units_stopped_early_count_their_unspent_budget():
    progress = Progress(total_epochs=10, enabled=False)
    progress.set_cell(1, 2)
    progress.start("trial 0")
    for _ in range(2):
        progress.epoch()
    progress.finish(budget=5)  # pruned after 2 of 5 epochs
    assert progress.done == 5
    progress.set_cell(2, 2)
    progress.start("trial 1")
    for _ in range(5):
        progress.epoch()
    progress.finish(budget=5)
    assert progress.done == progress.total == 10
    assert progress.label == "cell 2/2 trial 1"
    progress.close()
