"""The suite progress bar counts every budgeted epoch exactly once, weighted by images."""

from __future__ import annotations

from benchmarks.driver.progress import LABEL_WIDTH, Progress


def test_units_stopped_early_count_their_unspent_budget_weighted_by_images():
    progress = Progress(10 * 5 * 100 + 5 * 40, enabled=False)
    progress.set_cell(1, 2)
    progress.start("small trial 0", weight=40)
    for _ in range(2):
        progress.epoch()
    assert progress.done == 80
    progress.finish(budget=5)  # pruned after 2 of 5 epochs
    assert progress.done == 200
    progress.set_cell(2, 2)
    for trial in range(10):
        progress.start(f"large trial {trial}", weight=100)
        for _ in range(5):
            progress.epoch()
        progress.finish(budget=5)
    assert progress.done == progress.total
    assert progress.label == "2/2 large trial 9"
    progress.close()


def test_labels_fit_80_columns_and_keep_both_ends():
    progress = Progress(1, enabled=False)
    progress.set_cell(12, 24)
    progress.start("fashion_mnist_near n10000 discriminative_lr seed 2")
    assert len(progress.label) == LABEL_WIDTH
    assert progress.label.startswith("12/24 fashion") and progress.label.endswith("seed 2")
    progress.close()


def test_a_line_per_finished_cell_only_where_no_bar_shows(capsys):
    hidden = Progress(1)  # pytest's output is no terminal: the bar hides itself
    hidden.set_cell(3, 4)
    hidden.cell_done("b/d/n20/lora: best val 0.500")
    off = Progress(1, enabled=False)  # --no-progress: nothing at all
    off.cell_done("b/d/n20/lora: best val 0.500")
    assert capsys.readouterr().out == "3/4 b/d/n20/lora: best val 0.500\n"
