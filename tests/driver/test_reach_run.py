"""A suite's second stage: its seeds within reach run in every cell of the sizes chosen
(benchmarks.driver.reach_run), resume like the first seeds, and count in ``ftbench status``."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.cli.status_text import format_status
from benchmarks.results import reach
from benchmarks.results.status import suite_status
from tests.conftest import run_suite_text

SUITE = """
name: reach
backbones: [test_resnet]
datasets: [synth_far]
sizes: [20, 40]
strategies: [feature_extraction, full_finetune]
trials: 1
seeds: [0, 1]
seeds_within_reach: [5]
pretrain: {dataset: synth_near, epochs: 1, batch_size: 128}
train: {max_epochs: 1, batch_size: 16}
"""


def _run(tmp_path, capsys) -> tuple[int, str]:
    code = run_suite_text(tmp_path, SUITE)
    return code, capsys.readouterr().out


def _seeds(folder) -> dict[tuple[int, str], list[int]]:
    final = pd.read_csv(folder / "final.csv")
    return {key: sorted(g.seed) for key, g in final.groupby(["n_train", "strategy"])}


def test_the_sizes_within_reach_run_the_extra_seeds_in_all_their_cells(tmp_path, capsys,
                                                                       monkeypatch):
    chosen = {20}  # stands in for the verdict rule: only the 20-image verdict is close
    monkeypatch.setattr(reach, "_is_within_reach",
                        lambda group, most, margin: int(group.n_train.iloc[0]) in chosen)
    code, out = _run(tmp_path, capsys)
    assert code == 0
    folder = tmp_path / "results" / "reach"
    assert _seeds(folder) == {(20, "feature_extraction"): [0, 1, 5],
                              (20, "full_finetune"): [0, 1, 5],
                              (40, "feature_extraction"): [0, 1],
                              (40, "full_finetune"): [0, 1]}
    assert "test_resnet/synth_far/n20: its guideline verdict is within reach of 3 seeds" in out
    assert "n40: its guideline" not in out
    assert len(pd.read_csv(folder / "trials.csv")) == 4  # the second stage tunes nothing
    status = suite_status(folder)
    assert status.cells_done == 4 and status.ignored_rows == 0
    assert (status.seeds_done, status.seeds_planned) == (10, 10)
    assert "final seeds: 10 of 10 (2 of them within reach, in 2 cells)" in format_status(status)

    chosen.clear()  # the choice made stays: a size with a row of an extra seed keeps it
    before = (folder / "final.csv").read_bytes()
    code, out = _run(tmp_path, capsys)
    assert code == 0 and "within reach" not in out  # nothing owed: nothing said
    assert (folder / "final.csv").read_bytes() == before


def test_a_resume_runs_the_extra_seeds_a_stop_left_out(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(reach, "_is_within_reach", lambda group, most, margin: True)
    from benchmarks.driver import reach_run

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # the run ends after the first stage

    monkeypatch.setattr(reach_run, "run_grid", stopped)
    assert _run(tmp_path, capsys)[0] == 130  # as after Ctrl-C
    folder = tmp_path / "results" / "reach"
    assert set(map(tuple, _seeds(folder).values())) == {(0, 1)}
    status = suite_status(folder)
    assert (status.seeds_done, status.seeds_planned, status.cells_done) == (8, 12, 0)
    monkeypatch.undo()
    monkeypatch.setattr(reach, "_is_within_reach", lambda group, most, margin: True)
    assert _run(tmp_path, capsys)[0] == 0
    assert set(map(tuple, _seeds(folder).values())) == {(0, 1, 5)}
    assert suite_status(folder).cells_done == 4


def test_without_seeds_within_reach_there_is_no_second_stage(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(reach, "_is_within_reach",
                        lambda *a: pytest.fail("no choice without seeds_within_reach"))
    assert run_suite_text(tmp_path, SUITE.replace("seeds_within_reach: [5]\n", "")) == 0
    assert set(map(tuple, _seeds(tmp_path / "results" / "reach").values())) == {(0, 1)}
