"""A results folder never mixes or duplicates results: a changed suite, a lost or other
Optuna storage and a damaged table each stop the run in one line before any work, and
``--extend`` adds seeds where that is sound."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.cli.commands import main
from benchmarks.data import load_dataset
from benchmarks.driver import resume_guard, tuning
from benchmarks.driver.grid import make_all_splits, resolve_plan
from benchmarks.driver.resume_guard import check_same_suite
from benchmarks.results import fingerprint
from benchmarks.results.csv_check import read_checked
from benchmarks.results.fingerprint import task_digest
from benchmarks.results.folder_state import read_folder
from benchmarks.results.status import suite_status
from benchmarks.results.tables import TABLES, ResultsWriter
from benchmarks.suite.model import load_suite
from tests.conftest import TINY_SUITE, digest

SUITE = TINY_SUITE


def _run(folder: Path, text: str, *args: str) -> int:
    (folder / "tiny.yaml").write_text(text)
    return main(["run", str(folder / "tiny.yaml"), "--results-dir", str(folder / "results"),
                 "--cache-dir", str(folder.parent / "cache"), "--no-progress", "--no-report",
                 *args])


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A folder holding the tiny suite, run to the end once."""
    folder = tmp_path_factory.mktemp("integrity") / "base"
    folder.mkdir()
    assert _run(folder, SUITE) == 0
    return folder


@pytest.fixture
def earlier(finished, tmp_path) -> Path:
    """A copy of the finished run that a test may change (the cache is shared)."""
    folder = tmp_path / "copy"
    shutil.copytree(finished, folder)
    (tmp_path / "cache").symlink_to(finished.parent / "cache")
    return folder


def _refused(folder: Path, capsys, needle: str, text: str = SUITE, *args: str) -> None:
    """The run exits 2 with one line holding ``needle`` and changes nothing in results/."""
    before = digest(folder / "results")
    assert _run(folder, text, *args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err, err
    assert digest(folder / "results") == before


def test_the_first_run_records_the_fingerprint_of_settings_and_data(finished):
    recorded = json.loads((finished / "results" / "tiny" / "fingerprint.json").read_text())
    assert recorded["settings"]["train"]["max_epochs"] == 2
    assert recorded["settings"]["seeds"] == [0]
    assert "description" not in recorded["settings"]
    assert len(recorded["data"]["synth_far"]) == 64  # a SHA-256


@pytest.mark.parametrize("change, keys", [
    (("max_epochs: 2, batch_size: 16", "max_epochs: 25, batch_size: 16, optimizer: sgd"),
     "made them: train.max_epochs, train.optimizer."),
    (("seeds: [0]", "seeds: [1]"), "made them: seeds."),
    (("sizes: [20]", "sizes: [30]"), "made them: sizes."),
])
def test_a_changed_suite_under_the_same_name_is_refused(earlier, capsys, change, keys):
    _refused(earlier, capsys, keys, SUITE.replace(*change))


def test_the_refusal_offers_extend_only_where_it_is_sound(earlier, capsys):
    _refused(earlier, capsys, "Pass --extend", SUITE.replace("seeds: [0]", "seeds: [0, 1]"))
    _refused(earlier, capsys, "final seeds already ran on the old one",
             SUITE.replace("trials: 2", "trials: 3"), "--extend")
    _refused(earlier, capsys, "seeds must keep the old ones [0]",
             SUITE.replace("seeds: [0]", "seeds: [1]"), "--extend")


def test_seeds_within_reach_extend_like_seeds(earlier, capsys):
    """An older fingerprint has no seeds_within_reach: it matches a suite without them; more
    are added with --extend (the old ones kept), and the fingerprint then records them."""
    recorded = json.loads((earlier / "results" / "tiny" / "fingerprint.json").read_text())
    assert "seeds_within_reach" in recorded["settings"]
    del recorded["settings"]["seeds_within_reach"]
    (earlier / "results" / "tiny" / "fingerprint.json").write_text(json.dumps(recorded))
    reach = SUITE.replace("seeds: [0]", "seeds: [0]\nseeds_within_reach: [3]")
    _refused(earlier, capsys, "made them: seeds_within_reach. Pass --extend", reach)
    assert _run(earlier, SUITE) == 0
    assert _run(earlier, reach, "--extend") == 0
    out = json.loads((earlier / "results" / "tiny" / "fingerprint.json").read_text())
    assert out["settings"]["seeds_within_reach"] == [3]
    _refused(earlier, capsys, "seeds_within_reach must keep the old ones [3], but got [4]",
             reach.replace("[3]", "[4]"), "--extend")


def test_a_new_description_is_no_change(earlier, capsys):
    assert _run(earlier, SUITE + "description: the same suite, better told\n") == 0


def test_extend_adds_the_new_seed_and_reruns_nothing(earlier):
    out = earlier / "results" / "tiny"
    trials_before = (out / "trials.csv").read_text()
    assert _run(earlier, SUITE.replace("seeds: [0]", "seeds: [0, 1]"), "--extend") == 0
    final = pd.read_csv(out / "final.csv")
    assert sorted(final.seed) == [0, 1]
    assert (out / "trials.csv").read_text() == trials_before
    assert json.loads((out / "fingerprint.json").read_text())["settings"]["seeds"] == [0, 1]


def test_extend_adds_a_strategy_s_cells_and_keeps_the_old_ones(earlier, capsys):
    out = earlier / "results" / "tiny"
    rows_before = {name: (out / f"{name}.csv").read_text() for name in ("trials", "final")}
    old = SUITE[SUITE.index("strategies:"):].split("\n")[0]
    names = old.split("[", 1)[1].rstrip("]").split(", ")
    added = old.replace("]", ", bitfit]")
    _refused(earlier, capsys, "Pass --extend to add the new seeds, trials, strategies or sizes",
             SUITE.replace(old, added))
    _refused(earlier, capsys, f"strategies must keep the old ones {names}",
             SUITE.replace(old, "strategies: [bitfit]"), "--extend")
    assert _run(earlier, SUITE.replace(old, added), "--extend") == 0
    for name, before in rows_before.items():
        now = (out / f"{name}.csv").read_text()
        assert now.startswith(before) and "bitfit" in now[len(before):]
        assert "bitfit" not in before


def test_extend_adds_a_size_s_cells_with_its_own_budget_and_keeps_the_old_ones(earlier,
                                                                             capsys):
    out = earlier / "results" / "tiny"
    rows_before = {name: (out / f"{name}.csv").read_text() for name in ("trials", "final")}
    added = SUITE.replace("sizes: [20]", "sizes: [20, 30]") + "epochs_by_size: {30: 3}\n"
    _refused(earlier, capsys, "Pass --extend to add the new seeds, trials, strategies or sizes",
             added)
    _refused(earlier, capsys, "sizes must keep the old ones [20], but got [30]",
             SUITE.replace("sizes: [20]", "sizes: [30]"), "--extend")
    _refused(earlier, capsys, "epochs_by_size of the old size 20 must stay unset, but got 3",
             added.replace("{30: 3}", "{20: 3, 30: 3}"), "--extend")
    assert _run(earlier, added, "--extend") == 0
    for name, before in rows_before.items():
        now = pd.read_csv(out / f"{name}.csv")
        assert (out / f"{name}.csv").read_text().startswith(before)
        assert sorted(set(now.n_train)) == [20, 30]
    new = pd.read_csv(out / "trials.csv").query("n_train == 30")
    assert set(new.max_epochs) == {3} and len(new) == 2
    assert json.loads((out / "fingerprint.json").read_text())["settings"]["sizes"] == [20, 30]


def test_added_sizes_do_not_excuse_dropped_seeds(finished):
    out = finished / "results" / "tiny"
    changed = json.loads(json.dumps(fingerprint.read(out)))
    changed["settings"]["sizes"] = [20, 30]
    assert check_same_suite(read_folder(out), changed, extend=True)  # sizes alone extend
    changed["settings"]["seeds"] = [1]
    with pytest.raises(ValueError, match=r"seeds must keep the old ones \[0\]"):
        check_same_suite(read_folder(out), changed, extend=True)


def test_an_added_size_that_would_shift_an_old_split_is_refused(finished, monkeypatch):
    """The nested splits keep an old size's images when a larger size joins; the check
    compares them with the old suite's, so a split that moved (here: forged) is refused."""
    out = finished / "results" / "tiny"
    text = SUITE.replace("sizes: [20]", "sizes: [20, 30]")
    (finished / "bigger.yaml").write_text(text)
    suite = load_suite(str(finished / "bigger.yaml"))
    tasks = {"synth_far": load_dataset("synth_far")}
    splits = make_all_splits(suite, tasks, resolve_plan(suite, tasks))
    resume_guard.check_splits_kept(read_folder(out), suite, tasks, splits)  # a larger size: kept
    old = splits["synth_far"][20]
    splits["synth_far"][20] = dataclasses.replace(old, val_idx=old.val_idx[::-1].copy() + 1)
    with pytest.raises(ValueError, match="the old size 20 of dataset 'synth_far' must keep"):
        resume_guard.check_splits_kept(read_folder(out), suite, tasks, splits)


def test_a_folder_without_the_macro_columns_is_upgraded_and_resumes(earlier):
    """final.csv of an older ftbench lacks test_macro_precision/recall: the next run rewrites
    it with them, computed from confusion.csv, equal to what the final run computed from the
    predictions (scikit-learn), and goes on appending under the new header."""
    out = earlier / "results" / "tiny"
    written = pd.read_csv(out / "final.csv")
    later = ["test_macro_precision", "test_macro_recall"]
    assert written[later].notna().all().all()
    written.drop(columns=later).to_csv(out / "final.csv", index=False, lineterminator="\r\n")
    assert _run(earlier, SUITE.replace("seeds: [0]", "seeds: [0, 1]"), "--extend") == 0
    upgraded = pd.read_csv(out / "final.csv")
    assert list(upgraded.columns) == TABLES["final"]
    assert sorted(upgraded.seed) == [0, 1]
    old = upgraded[upgraded.seed == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(old[later], written[later])
    pd.testing.assert_frame_equal(old.drop(columns=later), written.drop(columns=later))


def test_an_older_folder_resumes_and_extends_with_the_suite_s_sampler_seed(earlier,
                                                                           monkeypatch):
    """A folder of an ftbench before per-cell sampler seeds (its fingerprint lacks
    ``sampler_seeds``) was tuned with the suite's sampler_seed in every cell: it is not taken
    for another suite, and it resumes, and extends, with that seed in every cell."""
    out = earlier / "results" / "tiny"
    older = fingerprint.read(out)
    assert older.pop("sampler_seeds") == "per_cell"
    fingerprint.write(out, older)
    seen: dict[str, int] = {}
    real = tuning.open_study

    def spy(name, storage, sampler_seed, *args):
        seen[name] = sampler_seed
        return real(name, storage, sampler_seed, *args)

    monkeypatch.setattr(tuning, "open_study", spy)
    assert _run(earlier, SUITE) == 0
    assert list(seen.values()) == [0] and fingerprint.read(out) == older  # as it was
    assert _run(earlier, SUITE.replace("sizes: [20]", "sizes: [20, 30]"), "--extend") == 0
    assert len(seen) == 2 and set(seen.values()) == {0}
    assert fingerprint.read(out)["sampler_seeds"] == "suite"  # the extended folder says so
    plan = json.loads((out / "plan.json").read_text())
    assert plan["sampler_seeds"] == "suite"
    assert [c["sampler_seed"] for c in plan["cells"]] == [0, 0]


def test_changed_data_is_refused_by_its_content_not_its_place(finished):
    out = finished / "results" / "tiny"
    recorded = fingerprint.read(out)
    moved = json.loads(json.dumps(recorded))
    assert not check_same_suite(read_folder(out), moved, extend=False)
    moved["data"]["synth_far"] = "0" * 64
    with pytest.raises(ValueError, match=r"made them: data\.synth_far\. --extend cannot"):
        check_same_suite(read_folder(out), moved, extend=True)


def test_a_pixel_changes_the_data_digest():
    task = load_dataset("synth_far")
    before = task_digest(task)
    task.test.images[0, 0, 0, 0] ^= 1
    assert task_digest(task) != before


def test_a_deleted_journal_is_refused_before_a_new_one_is_made(earlier, capsys):
    (earlier / "results" / "tiny" / "optuna.journal").unlink()
    _refused(earlier, capsys, "it must exist, since")
    assert not (earlier / "results" / "tiny" / "optuna.journal").exists()


def test_another_storage_is_refused(earlier, capsys):
    other = earlier / "other.journal"
    _refused(earlier, capsys, "it must exist, since", SUITE, "--storage", str(other))
    other.write_text("")
    _refused(earlier, capsys, "rows of trials it does not hold", SUITE, "--storage", str(other))


def test_a_table_cut_mid_row_is_named_by_every_reader(earlier, capsys):
    out = earlier / "results" / "tiny"
    text = (out / "trials.csv").read_bytes()
    (out / "trials.csv").write_bytes(text[: text.rfind(b"\n", 0, -1) + 40])
    _refused(earlier, capsys, "trials.csv': line 3 must be a whole row")
    assert main(["report", str(out)]) == 2
    assert "line 3 must be a whole row" in capsys.readouterr().err
    assert main(["status", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "trials: 1 COMPLETE" in shown and "left out: 1 last row" in shown


def test_a_damaged_middle_row_is_named_by_status_too(earlier, capsys):
    out = earlier / "results" / "tiny"
    lines = (out / "final.csv").read_text().splitlines(keepends=True)
    cut = "tiny,test_resnet,synth_far\r\n"
    (out / "final.csv").write_text(lines[0] + cut + "".join(lines[1:]))
    assert main(["status", str(out)]) == 2
    assert "final.csv': line 2 must have 27 fields" in capsys.readouterr().err


def test_a_suite_with_epochs_by_size_resumes_in_its_own_folder(tmp_path):
    """JSON writes the sizes of epochs_by_size as text: the fingerprint a run computes must
    equal the one it reads back, or no built-in suite (they all set epochs_by_size) resumes."""
    text = SUITE.replace("sizes: [20]", "sizes: [20]\nepochs_by_size: {20: 2}")
    assert _run(tmp_path, text) == 0
    trials = (tmp_path / "results" / "tiny" / "trials.csv").read_text()
    assert _run(tmp_path, text) == 0
    assert (tmp_path / "results" / "tiny" / "trials.csv").read_text() == trials


def _damage(path: Path, line: int, column: str, value: str) -> None:
    """Set ``column`` of the row on ``line`` (1 = the header) of a results table."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    rows[line - 1][rows[0].index(column)] = value
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    path.write_text(text.getvalue())


@pytest.mark.parametrize("value", ["nan", "banana", "7.5", "-0.2", ""])
def test_a_damaged_test_accuracy_is_refused_by_every_reader(earlier, capsys, value):
    out = earlier / "results" / "tiny"
    _damage(out / "final.csv", 2, "test_acc", value)
    needle = "final.csv': line 2 must have test_acc a fraction in [0, 1], but got"
    _refused(earlier, capsys, needle)
    for command in (["status", str(out)], ["report", str(out)], ["compare", str(out), str(out)]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and needle in err and "Traceback" not in err, err


def test_a_repeated_final_row_is_no_second_seed(earlier, capsys):
    out = earlier / "results" / "tiny"
    lines = (out / "final.csv").read_text().splitlines(keepends=True)
    (out / "final.csv").write_text("".join(lines + lines[1:2]))
    needle = f"line {len(lines) + 1} must be the only row of cell"
    _refused(earlier, capsys, needle)
    assert main(["status", str(out)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "seed 0, but line 2 has it too" in err, err


def test_a_repeated_trial_row_and_a_bad_count_are_refused(earlier, capsys):
    out = earlier / "results" / "tiny"
    text = (out / "trials.csv").read_text()
    lines = text.splitlines(keepends=True)
    (out / "trials.csv").write_text(text + lines[1])
    _refused(earlier, capsys, "trial 0, but line 2 has it too")
    (out / "trials.csv").write_text(text)
    _damage(out / "trials.csv", 2, "epochs_run", "2.5")
    _refused(earlier, capsys, "line 2 must have epochs_run a whole number >= 0, but got '2.5'")


def test_values_left_empty_by_the_writers_pass_and_kinds_are_checked(tmp_path):
    head = ",".join(TABLES["trials"])
    cell = "s,b,d,near,30,30,<1k,lora"
    ok = (f"{head}\n{cell},0,True,,FAIL,boom,,{{}},,,,10,,,,,5,\n"
          f"{cell},1,False,0.0,PRUNED,,0.1,{{}},0.5,2.0,3,10,7,,0.1,,5,r\n")
    path = tmp_path / "trials.csv"
    path.write_text(ok)
    assert read_checked(path)[0] == ok
    path.write_text(ok.replace("PRUNED", "DONE"))
    with pytest.raises(ValueError, match="line 3 must have status one of COMPLETE"):
        read_checked(path)
    path.write_text(ok.replace(",0.5,", ",inf,"))
    with pytest.raises(ValueError, match="val_acc a fraction in \\[0, 1\\], but got 'inf'"):
        read_checked(path)
    other = tmp_path / "timing_caveats.csv"  # a table without kinds: field counts only
    other.write_text("a,b\nnan,\n")
    assert read_checked(other)[0] == "a,b\nnan,\n"


@pytest.mark.parametrize("text", [SUITE, SUITE.replace("max_epochs: 2", "max_epochs: 3")])
def test_the_storage_of_another_folder_is_refused(earlier, capsys, text):
    journal = earlier / "results" / "tiny" / "optuna.journal"
    before = digest(earlier / "results")
    other = earlier.parent / "other"
    other.mkdir()
    _refused(other, capsys, "must belong to the results folder", text, "--storage", str(journal))
    assert digest(earlier / "results") == before
    assert not (other / "results" / "tiny" / "trials.csv").exists()


def test_studies_of_an_older_ftbench_resume_in_their_folder_only(tmp_path, capsys, monkeypatch):
    """Studies without a folder's id (an older ftbench) resume where the rows match them."""
    folder, other = tmp_path / "old", tmp_path / "other"
    folder.mkdir()
    other.mkdir()
    with monkeypatch.context() as patched:
        patched.setattr("benchmarks.driver.runner.claim_studies", lambda *args: None)
        assert _run(folder, SUITE) == 0
    out = folder / "results" / "tiny"
    (out / fingerprint.ID_FILE).unlink()
    _refused(other, capsys, "it holds trials that this folder has no rows of", SUITE,
             "--storage", str(out / "optuna.journal"))
    rows = (out / "trials.csv").read_text()
    assert _run(folder, SUITE) == 0
    assert (out / "trials.csv").read_text() == rows and (out / fingerprint.ID_FILE).is_file()
    _refused(other, capsys, "made by the run of another results folder", SUITE, "--storage",
             str(out / "optuna.journal"))


def test_a_trial_whose_row_was_not_written_is_run_again(tmp_path, monkeypatch):
    """A failed write of a trial's row (an I/O error) never leaves the storage counting a
    trial that the rows lack: it is run again, and the cell is done in both. (A full disk
    stops the run instead, and the next run retries: tests/cli/test_disk_full.py.)"""
    append, failed = ResultsWriter.append, []

    def once(self, table, row):
        if table == "trials" and not failed:
            failed.append(row["trial"])
            raise OSError(5, "Input/output error")
        append(self, table, row)

    monkeypatch.setattr(ResultsWriter, "append", once)
    assert _run(tmp_path, SUITE) == 0
    out = tmp_path / "results" / "tiny"
    trials = pd.read_csv(out / "trials.csv")
    assert failed == [0] and 0 not in set(trials.trial)
    assert len(trials) == 2 and set(trials.status) <= {"COMPLETE", "PRUNED"}
    assert set(trials.retry_of.dropna()) == {0}
    monkeypatch.setattr(ResultsWriter, "append", append)
    rows = (out / "trials.csv").read_text()
    assert _run(tmp_path, SUITE) == 0
    assert (out / "trials.csv").read_text() == rows
    (cell,) = suite_status(out).cells
    assert (cell.trials_done, cell.seeds_done, cell.done) == (2, 1, True)


def test_a_trial_in_the_storage_without_its_row_is_run_again_on_resume(earlier):
    """A run stopped between Optuna recording a trial and its row being written: the next
    start runs it again, rather than taking the cell as done without its row."""
    out = earlier / "results" / "tiny"
    lines = (out / "trials.csv").read_text().splitlines(keepends=True)
    (out / "trials.csv").write_text("".join(lines[:-1]))  # the last trial's row is lost
    lost = int(pd.read_csv(io.StringIO(lines[0] + lines[-1])).trial.iloc[0])
    assert _run(earlier, SUITE) == 0
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 2 and lost not in set(trials.trial)
    assert trials.retry_of.dropna().tolist() == [lost]
    (cell,) = suite_status(out).cells
    assert (cell.trials_done, cell.seeds_done, cell.done) == (2, 1, True)
    rows = (out / "trials.csv").read_text()
    assert _run(earlier, SUITE) == 0
    assert (out / "trials.csv").read_text() == rows
