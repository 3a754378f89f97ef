"""``ftbench pack`` and ``unpack``: what an archive holds, what unpacking refuses, and a run
stopped by ``--stop-after``, packed, unpacked at another path and resumed there, which ends
as a run never stopped."""

from __future__ import annotations

import io
import json
import random
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from benchmarks.cli.commands import main
from benchmarks.driver import time_box
from benchmarks.results.archive import pack, packed_files, unpack
from tests.conftest import TWO_CELL_SUITE, digest


def _folder(root: Path, name: str = "tiny") -> Path:
    """A results folder with a file of every kind, and some that are left out."""
    folder = root / name
    (folder / "report" / "figures").mkdir(parents=True)
    (folder / "features" / "b" / "d").mkdir(parents=True)
    (folder / "mlartifacts" / "run1").mkdir(parents=True)
    for kept in ("plan.json", "run.json", "fingerprint.json", "suite.yaml", "trials.csv",
                 "final.csv", "timing_caveats.csv", "optuna.journal", "mlflow.db",
                 "features/b/d/n20.npz", "mlartifacts/run1/a.txt"):
        (folder / kept).write_text(f"{kept}\n")
    for left_out in ("report/report.md", "report/figures/f.png", "mlflow.db.lock",
                     "plan.json.tmp", "notes.txt"):
        (folder / left_out).write_text("left out\n")
    return folder


def test_an_archive_holds_what_a_resume_needs_and_restores_it_byte_for_byte(tmp_path):
    folder = _folder(tmp_path / "a")
    files = pack(folder, tmp_path / "tiny.tar.gz")
    assert "report" not in {p.parts[0] for p in files}
    assert {p.name for p in files} >= {"optuna.journal", "mlflow.db", "n20.npz", "a.txt",
                                       "timing_caveats.csv"}
    assert not {"mlflow.db.lock", "plan.json.tmp", "notes.txt"} & {p.name for p in files}
    assert files == packed_files(folder)
    restored = unpack(tmp_path / "tiny.tar.gz", tmp_path / "b")
    assert restored == tmp_path / "b" / "tiny"
    kept = {p: h for p, h in digest(folder).items() if p in files}
    assert digest(restored) == kept
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["tiny"]  # no staging folder left


def test_an_archive_over_the_limit_is_refused_naming_its_biggest_part(tmp_path):
    folder = _folder(tmp_path)
    (folder / "features" / "big.npz").write_bytes(random.Random(0).randbytes(2 * 2**20))
    with pytest.raises(ValueError, match=r"it must be at most 1 MiB, but it would be 2.0 MiB "
                                         r"\(the biggest part: features/, 2.0 MiB"):
        pack(folder, tmp_path / "t.tar.gz", limit_mib=1)
    assert not list(tmp_path.glob("*.tar.gz")) and not list(tmp_path.glob(".t.tar.gz*"))


def _tar(path: Path, members: list[tuple[str, bytes | str | None]]) -> Path:
    """A tar.gz of (name, bytes) files, (name, None) folders and (name, 'link:target')."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, str):
                info.type, info.linkname = tarfile.SYMTYPE, data.removeprefix("link:")
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("members,needle", [
    ([("tiny/plan.json", b"{}"), ("tiny/../evil", b"x")], "'tiny/../evil' is outside it"),
    ([("tiny/plan.json", b"{}"), ("/etc/evil", b"x")], "'/etc/evil' is outside it"),
    ([("tiny/plan.json", b"{}"), ("tiny/l", "link:/etc/passwd")], "is a link or device"),
    ([("tiny/trials.csv", b"a\n")], "it must hold one results folder with its plan.json"),
    ([("a/plan.json", b"{}"), ("b/plan.json", b"{}")], "it must hold one results folder"),
])
def test_an_archive_that_is_not_one_of_pack_is_refused_and_nothing_written(tmp_path, members,
                                                                             needle):
    archive = _tar(tmp_path / "x.tar.gz", members)
    with pytest.raises(ValueError, match=needle):
        unpack(archive, tmp_path / "r")
    assert not (tmp_path / "r").exists() and not (tmp_path / "evil").exists()


def test_unpacking_onto_a_folder_with_files_is_refused(tmp_path):
    pack(_folder(tmp_path / "a"), tmp_path / "tiny.tar.xz")
    (tmp_path / "r" / "tiny").mkdir(parents=True)
    unpack(tmp_path / "tiny.tar.xz", tmp_path / "r")  # an empty folder is filled
    before = digest(tmp_path / "r")
    with pytest.raises(ValueError, match="it must be absent or empty before unpacking"):
        unpack(tmp_path / "tiny.tar.xz", tmp_path / "r")
    assert digest(tmp_path / "r") == before
    (tmp_path / "cut.tar.xz").write_bytes((tmp_path / "tiny.tar.xz").read_bytes()[:100])
    with pytest.raises(ValueError, match="Copy it again"):
        unpack(tmp_path / "cut.tar.xz", tmp_path / "other")
    assert not (tmp_path / "other" / "tiny").exists()


SUITE = TWO_CELL_SUITE.format(name="trip")
VARYING = ["train_time_s", "peak_mem_mb", "mlflow_run_id"]
"""Columns of clocks, memory and random ids; every other value must be the same."""


def _run(root: Path, results: Path, *extra: str) -> int:
    """``ftbench run`` of SUITE; ``root`` holds the suite file and the checkpoint cache."""
    suite = root / "trip.yaml"
    suite.write_text(SUITE)
    return main(["run", str(suite), "--results-dir", str(results), "--cache-dir",
                 str(root / "c"), "--no-progress", "--no-report", *extra])


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The folder of a run never stopped (its root also caches the pretrained backbone)."""
    root = tmp_path_factory.mktemp("whole")
    assert _run(root, root / "r") == 0
    return root


def _stop_after(monkeypatch, trainings: int) -> None:
    """Let ``trainings`` trainings start, then price the next at longer than any box."""
    started = []

    def estimate(self, run, kind):
        started.append(kind)
        return 0.0 if len(started) <= trainings else 1e9

    monkeypatch.setattr(time_box.TimeBox, "estimate", estimate)


def _table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv").drop(columns=VARYING, errors="ignore")


@pytest.mark.parametrize("trainings,next_one", [(1, "trial"), (3, "final seed")])
def test_a_stopped_run_packed_and_resumed_elsewhere_equals_a_run_never_stopped(
        tmp_path, monkeypatch, capsys, whole, trainings, next_one):
    """Stopped between the two trials of the first cell, or between its two final seeds (the
    second then waits in the storage), at another path."""
    with monkeypatch.context() as patch:
        _stop_after(patch, trainings)
        assert _run(whole, tmp_path / "here", "--stop-after", "1h") == 3
    assert f"test_resnet/synth_far/n20/feature_extraction {next_one}" in capsys.readouterr().out
    assert main(["pack", str(tmp_path / "here" / "trip"), "--out",
                 str(tmp_path / "trip.tar.xz")]) == 0
    assert main(["unpack", str(tmp_path / "trip.tar.xz"), "--results-dir",
                 str(tmp_path / "there")]) == 0
    folder = tmp_path / "there" / "trip"
    store = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    experiment = store.get_experiment_by_name("ftbench/trip")
    assert experiment.artifact_location == (folder / "mlartifacts").resolve().as_uri()
    assert _run(whole, tmp_path / "there") == 0
    for name in ("trials", "final", "epochs", "confusion"):
        pd.testing.assert_frame_equal(_table(whole / "r" / "trip", name), _table(folder, name))
    runs = store.search_runs([experiment.experiment_id])
    assert len(runs) == 2 + 2 * (2 + 2) and {r.info.status for r in runs} == {"FINISHED"}
    assert all(r.info.artifact_uri.startswith(experiment.artifact_location) for r in runs)
    history = json.loads((folder / "run.json").read_text())["runs"]
    assert [r.get("stopped", False) for r in history] == [True, False]


def test_a_folder_whose_trial_still_runs_is_not_packed(tmp_path, capsys):
    import optuna

    from benchmarks.driver import liveness
    from benchmarks.driver.storage import make_storage

    folder = _folder(tmp_path)
    (folder / "optuna.journal").unlink()
    storage = make_storage(str(folder / "optuna.journal"))
    study = optuna.create_study(study_name="b/d/n20/s", storage=storage)
    liveness.mark_alive(study.ask())  # owned by this live process
    args = ["pack", str(folder), "--out", str(tmp_path / "t.tar.xz")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no trial may run while it is packed, but 1 does (b/d/n20/s trial 0, pid" in err
    killed = study.ask()
    killed.set_user_attr("ftbench.pid", 0)  # a process that is gone
    killed.set_user_attr("ftbench.host", liveness.socket.gethostname())
    study.tell(0, 0.5)
    assert main(args) == 0 and not list(tmp_path.glob(".t.tar.xz*"))
    assert "1 trial(s) of a killed run are still RUNNING" in capsys.readouterr().out
