"""The perf script's smoke mode runs and writes its table (numbers are not checked here)."""

from __future__ import annotations

import json

import pytest

from benchmarks.perf.main import main
from benchmarks.perf.pruning import compare, shapes


def test_the_perf_script_quick_mode_writes_its_table(tmp_path):
    rows = main(["--quick", "--only", "a,b,c", "--out", str(tmp_path)])
    assert {m.key for m in rows} == {"a", "b", "c"}
    assert all(m.value == m.value for m in rows)  # no NaN
    saved = json.loads((tmp_path / "perf.json").read_text())
    assert len(saved["measures"]) == len(rows) and "loadavg_before" in saved
    assert "| case | what | measured |" in (tmp_path / "summary.md").read_text()
    assert (tmp_path / "perf.csv").read_text().startswith("key,what,value")


def _row(cell: str, status: str, epochs: int, val_acc: float) -> dict[str, str]:
    return {"dataset": cell, "n_train": "30", "strategy": "full_finetune", "status": status,
            "epochs_run": str(epochs), "val_acc": str(val_acc)}


def test_pruning_is_judged_by_epochs_saved_and_best_accuracy_kept():
    plain = [_row("a", "COMPLETE", 10, 0.80), _row("a", "COMPLETE", 10, 0.60),
             _row("b", "COMPLETE", 10, 0.50), _row("b", "COMPLETE", 10, 0.70)]
    pruned = [_row("a", "COMPLETE", 10, 0.80), _row("a", "PRUNED", 1, 0.30),
              _row("b", "COMPLETE", 10, 0.50), _row("b", "PRUNED", 2, 0.40)]
    ratio, gap = compare("toy", pruned, plain)
    assert ratio.value == 23 / 40 and ratio.passed is False
    assert ratio.note == "23 vs 40 epochs; 2 of 4 trials pruned"
    assert gap.value == pytest.approx(10.0) and gap.passed is False  # b lost 20 points, a 0
    assert "most lost 20.00" in gap.note


def test_the_pruning_shapes_shrink_in_quick_mode():
    for quick in (False, True):
        for suite in shapes(quick).values():
            assert suite["seeds"] == [0] and suite["trials"] >= 3
    assert shapes(False)["imagenet_shaped"]["trials"] == 8


def test_the_gpu_trial_case_runs_on_a_cpu_in_quick_mode(tmp_path):
    rows = main(["--quick", "--only", "g", "--device", "cpu", "--out", str(tmp_path)])
    assert [m.key for m in rows] == ["g", "g"] and all(m.target == ">= 0.9" for m in rows)
    assert all(0 < m.value < 10 for m in rows)  # a ratio of two measured rates


@pytest.mark.slow
def test_the_gpu_suite_case_stops_in_its_time_box_and_packs_its_folder(tmp_path, monkeypatch):
    from pathlib import Path

    data = Path("../shared/data")
    if not (data / "cifar10_5class").is_dir():
        pytest.skip("needs ../shared/data/cifar10_5class")
    monkeypatch.setenv("FTBENCH_DATA", str(data.resolve()))
    monkeypatch.setenv("FTBENCH_CACHE", str(tmp_path / "cache"))
    rows = main(["--quick", "--only", "h", "--device", "cpu", "--gpu-workers", "1",
                 "--gpu-stop-after", "5s", "--out", str(tmp_path / "out")])
    assert len(rows) == 1 and rows[0].passed is False and "stopped unfinished" in rows[0].what
    assert (tmp_path / "out" / "run-2x2-w1.tar.xz").is_file()
    assert "resume: ftbench run" in (tmp_path / "out" / "run-2x2-w1.log").read_text()
