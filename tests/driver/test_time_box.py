"""``--stop-after``: durations, the estimate of one training, the gates before a trial and a
final seed, and a time-boxed run that stops before a training, exits 3 and resumes."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
from optuna.trial import TrialState

from benchmarks.cli.commands import main
from benchmarks.driver import seed_study, time_box, tuning
from benchmarks.driver.storage import make_storage
from benchmarks.driver.time_box import (
    MARGIN,
    OVERHEAD_S,
    UNTIMED_MARGIN,
    TimeBox,
    TimeUp,
    parse_duration,
)
from benchmarks.results.tables import TABLES
from tests.conftest import TWO_CELL_SUITE


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("9m", 540), ("2h", 7200),
                                          ("1h30m", 5400), ("1d2h", 93600), ("1.5h", 5400),
                                          (" 45M ", 2700)])
def test_durations_are_read_with_their_units(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["90", "5x", "", "1m30h", "-5m", "1 h", "h"])
def test_a_duration_without_units_in_order_is_one_line(text):
    with pytest.raises(ValueError, match="a duration such as 90s, 9m, 2h or 1h30m must hold"):
        parse_duration(text)


def test_a_zero_duration_is_refused():
    with pytest.raises(ValueError, match="a duration > 0 must hold, but got 0 seconds"):
        parse_duration("0m")


def _run(folder: Path, strategy="full_finetune", n_train=100, epochs=10, dataset="d"):
    """The parts of a CellRun that the time box reads."""
    cell = SimpleNamespace(backbone="b", dataset=dataset, n_train=n_train, strategy=strategy,
                           key=f"b/{dataset}/n{n_train}/{strategy}")
    return SimpleNamespace(
        cell=cell, writer=SimpleNamespace(folder=folder),
        train_cfg=SimpleNamespace(max_epochs=epochs, channels_last=False, batch_size=16,
                                  device="cpu"),
        split=SimpleNamespace(val_idx=list(range(20))),
        task=SimpleNamespace(test=SimpleNamespace(labels=list(range(500)))))


def _rows(folder: Path, table: str, rows: list[dict]) -> None:
    path = folder / f"{table}.csv"
    new = not path.exists()
    first = 0 if new else len(path.read_text().splitlines()) - 1  # each row its own number
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TABLES[table], extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerows({"trial": first + i, "seed": first + i, "status": "COMPLETE",
                          "test_acc": 0.5, **row} for i, row in enumerate(rows))


def _row(strategy="full_finetune", n_train=100, epochs=10, time_s=10.0, dataset="d"):
    return {"backbone": "b", "dataset": dataset, "n_train": n_train, "strategy": strategy,
            "epochs_run": epochs, "max_epochs": 10, "train_time_s": time_s}


def _costs(folder: Path, train="", infer=1000.0) -> None:
    (folder / "backbones.csv").write_text(
        "backbone,channels_last,train_img_per_s,train_img_per_s_channels_last,infer_img_per_s\n"
        f"b,False,{train},,{infer}\n")


def test_a_training_is_priced_at_its_measured_seconds_per_image(tmp_path):
    _costs(tmp_path, train=100.0)
    _rows(tmp_path, "trials", [_row(time_s=10.0), _row(time_s=30.0, epochs=5, n_train=400,
                                                       dataset="other")])
    box = TimeBox(deadline=1e12, older=(2, 0))  # the run started with these 2 rows
    # the cell: 10 s / (100 x 10) = 0.01 s per image; its backbone and strategy: 40 s / 3,000
    # images = 0.0133, the slower, so taken
    assert box.estimate(_run(tmp_path), "trial") == pytest.approx(
        MARGIN * 40 / 3000 * 100 * 10 + OVERHEAD_S)
    final = box.estimate(_run(tmp_path), "final")  # + 500 test images at 1,000 per second
    assert final == pytest.approx(MARGIN * 40 / 3000 * 100 * 10 + 0.5 + OVERHEAD_S)


def test_rows_of_this_invocation_come_before_older_ones(tmp_path):
    _costs(tmp_path)
    _rows(tmp_path, "trials", [_row(time_s=100.0)])  # timed on another machine
    box = TimeBox(deadline=1e12, older=(1, 0))  # the run started with that row
    assert box.estimate(_run(tmp_path), "trial") == pytest.approx(
        MARGIN * 0.1 * 1000 + OVERHEAD_S)
    _rows(tmp_path, "final", [_row(time_s=5.0)])  # timed here
    assert box.estimate(_run(tmp_path), "trial") == pytest.approx(
        MARGIN * 0.005 * 1000 + OVERHEAD_S)


def test_an_untimed_strategy_is_priced_at_the_measured_speed_with_a_wider_margin(tmp_path):
    _costs(tmp_path, train=200.0, infer=1000.0)
    _rows(tmp_path, "trials", [_row(strategy="feature_extraction", time_s=0.1)])
    box = TimeBox(deadline=1e12, older=(1, 0))
    epochs = 10 * (100 / 200.0 + 20 / 1000.0)  # training and validation images, every epoch
    assert box.estimate(_run(tmp_path), "trial") == pytest.approx(
        UNTIMED_MARGIN * epochs + OVERHEAD_S)


def test_a_training_that_would_end_after_the_deadline_is_not_started(tmp_path):
    _costs(tmp_path)
    _rows(tmp_path, "trials", [_row(time_s=10.0)])  # ~11 s + 2 s a training
    now = [1000.0]
    box = TimeBox(deadline=1020.0, older=(1, 0), clock=lambda: now[0])
    box.check(_run(tmp_path), "trial")  # 20 s left
    now[0] = 1010.0
    with pytest.raises(TimeUp) as stop:
        box.check(_run(tmp_path), "trial")  # 10 s left
    assert stop.value.label == "b/d/n100/full_finetune trial"
    assert stop.value.left_s == 10.0 and stop.value.estimate_s == pytest.approx(13.0)
    TimeBox(None).check(_run(tmp_path), "trial")  # no deadline: never stops


def test_the_gates_stop_between_trainings_and_leave_nothing_running(tmp_path):
    storage = make_storage(str(tmp_path / "s.journal"))
    study = optuna.create_study(study_name="c", storage=storage, direction="maximize")
    asked = []

    def stop():
        raise TimeUp(_run(tmp_path), "trial", 60.0, 5.0)

    def objective(trial):
        asked.append(trial.number)
        return trial.suggest_float("x", 0, 1)

    with pytest.raises(TimeUp):
        tuning.optimize(study, objective, 4, lambda: len(asked) == 2 and stop())
    assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE] * 2
    tuning.optimize(study, objective, 4)  # the resumed run: the budget, exactly
    assert len(study.get_trials()) == 4
    finals = optuna.create_study(study_name="c/final", storage=storage, direction="maximize")
    seed_study.offer_seeds(finals, [0, 1])
    with pytest.raises(TimeUp):
        seed_study.claim_seed(finals, stop)
    assert [t.state for t in finals.get_trials()] == [TrialState.WAITING] * 2
    assert seed_study.claim_seed(finals)[1] == 0  # the next run claims the waiting seeds


SUITE = TWO_CELL_SUITE.format(name="box")


def _args(tmp_path: Path, results: str, *extra: str) -> list[str]:
    suite = tmp_path / "box.yaml"
    suite.write_text(SUITE)
    return ["run", str(suite), "--results-dir", str(tmp_path / results), "--cache-dir",
            str(tmp_path / "c"), "--no-progress", *extra]


def _states(journal: Path) -> list[TrialState]:
    storage = make_storage(str(journal))
    return [t.state for s in optuna.get_all_study_summaries(storage)
            for t in optuna.load_study(study_name=s.study_name, storage=storage).trials]


def test_a_run_out_of_time_stops_before_a_training_exits_3_and_says_how_to_resume(
        tmp_path, capsys):
    args = _args(tmp_path, "r", "--stop-after", "1s")
    assert main(args) == time_box.EXIT_STOPPED  # a training alone takes more than the second
    out = capsys.readouterr().out
    assert "stopped by --stop-after 1s: the next training (test_resnet/synth_far/n20/" in out
    assert "suite box: 0/2 cells done" in out and "final seeds: 0 of 4" in out
    assert "report: not built" in out and f"resume: ftbench {' '.join(args)}" in out
    folder = tmp_path / "r" / "box"
    assert not (folder / "report").exists() and not (folder / "trials.csv").exists()
    assert TrialState.RUNNING not in _states(folder / "optuna.journal")
    assert json.loads((folder / "run.json").read_text())["runs"][-1]["stopped"] is True
    assert main(args[:-2] + ["--no-report"]) == 0  # the same command without the box: all
    assert len((folder / "final.csv").read_text().splitlines()) == 1 + 4
