"""The catalogue of bad input: each is one line on stderr, exit 2, no traceback, and nothing
already in ``results/`` changes. README.md's "Errors" table lists the same cases."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import timm
import torch

from benchmarks.cli.commands import main
from benchmarks.data import load_dataset
from benchmarks.models.checkpoints import save_checkpoint
from benchmarks.results import fingerprint
from benchmarks.results.tables import TABLES
from benchmarks.suite.model import load_suite
from tests.conftest import digest

BASE = """\
name: tiny
backbones: [test_resnet]
datasets: [synth_far]
sizes: [20]
strategies: [feature_extraction]
trials: 1
seeds: [0]
pretrain: {dataset: synth_near, epochs: 1}
train: {max_epochs: 1, batch_size: 16}
"""
"""A valid suite; a case changes one line of it (line numbers refer to it)."""

FASHION = Path("/work/shared/data/FashionMNIST/raw")


class Marker:
    """Pickles to a call of ``os.system`` that would create a file (``weights_only=False``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def _weights_of(tmp: Path, model: str) -> None:
    save_checkpoint(timm.create_model(model, num_classes=3).state_dict(), tmp / "w.pt")


def _corrupt_weights(tmp: Path) -> None:
    (tmp / "w.pt").write_bytes(b"PK\x03\x04 these are not weights")


def _code_in_pickle(tmp: Path) -> None:
    torch.save({"conv.weight": Marker(tmp / "pwned")}, tmp / "w.pt")


def _old_results(tmp: Path) -> None:
    (tmp / "results" / "tiny" / "trials.csv").write_text("suite,backbone,trial\ntiny,a,0\n")


def _bad_journal(tmp: Path) -> None:
    (tmp / "results" / "tiny" / "optuna.journal").write_text('{"no_op_code": 1}\n')


def _corrupt_fashion(tmp: Path) -> None:
    raw = tmp / "fm" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        (raw / name).write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02\x00\x01"))
    (raw / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08 truncated")


def _image_tree(tmp: Path) -> None:
    import numpy as np
    from PIL import Image

    for i in range(2):
        (tmp / "imgs" / f"c{i}").mkdir(parents=True)
        for j in range(4):
            Image.fromarray(np.full((8, 8, 3), j * 40, np.uint8)).save(tmp / "imgs" / f"c{i}" /
                                                                        f"{j}.png")
    (tmp / "imgs" / "c0" / "4.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")


def _one_class(tmp: Path) -> None:
    """``one/c0/``: a folder of a single class, beside the suite (its root is relative)."""
    _image_tree(tmp)
    (tmp / "one").mkdir()
    (tmp / "imgs" / "c1").rename(tmp / "one" / "c0")


def _small_class(tmp: Path) -> None:
    """``few/``: class c0 of 10 images, c1 of 2 (one to test; validation takes the other)."""
    import numpy as np
    from PIL import Image

    for label, count in (("c0", 10), ("c1", 2)):
        (tmp / "few" / label).mkdir(parents=True)
        for j in range(count):
            Image.fromarray(np.full((8, 8, 3), j * 20, np.uint8)).save(
                tmp / "few" / label / f"{j}.png")


ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [f"{n}: &{n} [{', '.join(['*' + p] * 9)}]" for p, n in zip("abcdefg", "bcdefgh")])
"""8 levels of 9 aliases: 9**8 = 43 million leaves (minutes and ~10 GiB if expanded)."""


def _a_file_in_the_way(tmp: Path) -> None:
    (tmp / "afile").write_text("not a folder\n")


def _report_file(tmp: Path) -> None:
    shutil.rmtree(tmp / "results" / "tiny" / "report")
    (tmp / "results" / "tiny" / "report").write_text("not a folder\n")


TRIAL_ROW = ("tiny,test_resnet,synth_far,far,20,20,<1k,feature_extraction,0,True,,COMPLETE,,"
             "0.001,{},0.5,1,1,1,10,100,0.1,50.0,4,\r\n")
"""One COMPLETE trial of BASE, as trials.csv holds it."""


def _journal_lost(tmp: Path) -> None:
    with (tmp / "results" / "tiny" / "trials.csv").open("a") as fh:
        fh.write(TRIAL_ROW)
    (tmp / "results" / "tiny" / "optuna.journal").unlink()


FINAL_ROW = ("tiny,test_resnet,synth_far,far,20,20,<1k,feature_extraction,0,0,0.001,{},0.5,0.5,"
             "0.5,0.5,0.5,1,1,1,10,100,0.1,50.0,4,10,r\r\n")
"""One final seed of BASE, as final.csv holds it."""


def _final_rows(*rows: str) -> Callable[[Path], None]:
    """A setup that appends ``rows`` to final.csv."""
    def setup(tmp: Path) -> None:
        with (tmp / "results" / "tiny" / "final.csv").open("a") as fh:
            fh.write("".join(rows))
    return setup


def _other_folders_study(tmp: Path) -> None:
    """``other.journal``: the study of BASE's cell, made by the run of another folder."""
    import optuna

    from benchmarks.driver.ownership import OWNER
    from benchmarks.driver.storage import make_storage

    study = optuna.create_study(study_name="test_resnet/synth_far/n20/feature_extraction",
                                storage=make_storage(str(tmp / "other.journal")))
    study.set_user_attr(OWNER, "0123456789abcdef")


def _row_cut(tmp: Path) -> None:
    with (tmp / "results" / "tiny" / "trials.csv").open("a") as fh:
        fh.write(TRIAL_ROW[:40])


def _other_suite(tmp: Path) -> None:
    """The fingerprint of BASE run with 5 epochs instead of 1."""
    (tmp / "earlier.yaml").write_text(BASE.replace("max_epochs: 1", "max_epochs: 5"))
    suite = load_suite(str(tmp / "earlier.yaml"))
    fingerprint.write(tmp / "results" / "tiny",
                      fingerprint.fingerprint(suite, {"synth_far": load_dataset("synth_far")}))


def _archive_of_tiny(tmp: Path) -> None:
    """``tiny.tar.xz``: an archive of a results folder named as the one in ``results/``."""
    from benchmarks.results.archive import pack

    (tmp / "src" / "tiny").mkdir(parents=True)
    (tmp / "src" / "tiny" / "plan.json").write_text("{}\n")
    pack(tmp / "src" / "tiny", tmp / "tiny.tar.xz")


def _escaping_archive(tmp: Path) -> None:
    """``evil.tar.gz``: a results folder, and a member that climbs out of it."""
    import io
    import tarfile

    with tarfile.open(tmp / "evil.tar.gz", "w:gz") as tar:
        for name in ("tiny/plan.json", "tiny/../../evil"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"{}\n"))


def _big_folder(tmp: Path) -> None:
    """``big/tiny/``: a results folder whose features weigh 17 MiB that do not compress."""
    import random

    (tmp / "big" / "tiny" / "features").mkdir(parents=True)
    (tmp / "big" / "tiny" / "plan.json").write_text("{}\n")
    (tmp / "big" / "tiny" / "features" / "f.npz").write_bytes(
        random.Random(0).randbytes(17 * 2**20))


@dataclass(frozen=True)
class Case:
    """One bad input: a change to BASE or other arguments, and a fragment of its message."""

    change: tuple[str, str] | None
    needle: str
    args: tuple[str, ...] = ()
    argv: tuple[str, ...] | None = None  # instead of `run tiny.yaml ...`
    setup: Callable[[Path], None] | None = None


CATALOGUE = {
    "unknown key": Case(("trials: 1", "trails: 1"), "tiny.yaml:6: key 'trails' must be one of"),
    "missing colon": Case(("seeds: [0]", "seeds [0]"), "tiny.yaml:8: it must be valid YAML"),
    "duplicate key": Case(("trials: 1", "trials: 1\ntrials: 2"), "duplicate key 'trials'"),
    "quoted integer": Case(("trials: 1", "trials: '1'"), "trials must be an integer"),
    "python tag in YAML": Case(("trials: 1", "trials: !!python/object/apply:os.system [date]"),
                               "tiny.yaml:6: it must be valid YAML"),
    "repeated seed": Case(("seeds: [0]", "seeds: [0, 0]"), "tiny.yaml:7: seeds must be distinct"),
    "size above 100%": Case(("sizes: [20]", "sizes: ['120%']"), "tiny.yaml:4: sizes:"),
    "size larger than the data": Case(("sizes: [20]", "sizes: [100000]"), "100000"),
    "unknown strategy": Case(("[feature_extraction]", "[feature_extration]"),
                             "Did you mean: feature_extraction"),
    "unknown dataset": Case(("[synth_far]", "[synth_fra]"), "synth_far"),
    "unknown backbone": Case(("[test_resnet]", "[test_resnt]"), "test_resnet"),
    "unknown suite": Case(None, "Did you mean: quickstart", argv=("run", "quikstart")),
    "missing image folder": Case(("[synth_far]", "[{name: imagefolder, root: {tmp}/nowhere}]"),
                                 "nowhere"),
    "corrupt image": Case(("[synth_far]", "[{name: imagefolder, root: {tmp}/imgs}]"),
                          "4.png", setup=_image_tree),
    "corrupt Fashion-MNIST file": Case(
        ("[synth_far]", "[{name: fashion_mnist, root: {tmp}/fm}]"),
        "train-images-idx3-ubyte", setup=_corrupt_fashion),
    "checkpoint of another architecture": Case(
        ("[test_resnet]", "[{name: test_resnet, weights: {tmp}/w.pt}]"), "missing",
        setup=lambda tmp: _weights_of(tmp, "test_vit")),
    "corrupt checkpoint": Case(("[test_resnet]", "[{name: test_resnet, weights: {tmp}/w.pt}]"),
                               "corrupt", setup=_corrupt_weights),
    "checkpoint that runs code": Case(
        ("[test_resnet]", "[{name: test_resnet, weights: {tmp}/w.pt}]"), "weights_only",
        setup=_code_in_pickle),
    "unreachable PostgreSQL": Case(None, "postgresql://ftbench:***@127.0.0.1:1/x",
                                   args=("--storage", "postgresql://ftbench:s3cret@127.0.0.1:1/x")),
    "bad SQLite path": Case(None, "must be reachable",
                            args=("--storage", "sqlite:///{tmp}/nowhere/optuna.db")),
    "journal in a missing folder": Case(None, "its folder must exist",
                                        args=("--storage", "{tmp}/nowhere/optuna.journal")),
    "unreachable MLflow server": Case(None, "127.0.0.1:1",
                                      args=("--mlflow-uri", "http://127.0.0.1:1")),
    "bad MLflow store path": Case(None, "MLflow tracking URI",
                                  args=("--mlflow-uri", "sqlite:///{tmp}/afile/mlflow.db"),
                                  setup=_a_file_in_the_way),
    "corrupt Optuna journal": Case(None, "it must be an Optuna journal", setup=_bad_journal),
    "results folder is a file": Case(None, "must be a writable folder",
                                     args=("--results-dir", "{tmp}/afile"),
                                     setup=_a_file_in_the_way),
    "results of an older version": Case(None, "columns must be those of this ftbench version",
                                        setup=_old_results),
    "zero workers": Case(None, "--n-workers and --threads must be >= 1",
                         args=("--n-workers", "0")),
    "stale-after shorter than heartbeats": Case(None, "--stale-after must be at least 180",
                                                args=("--stale-after", "30")),
    "report of a missing folder": Case(None, "must exist",
                                       argv=("report", "{tmp}/results/nosuch")),
    "status of a folder without a plan": Case(None, "plan.json",
                                              argv=("status", "{tmp}/results/nosuch")),
    "YAML alias bomb": Case(("trials: 1", "trials: 1\n" + ALIAS_BOMB),
                            "tiny.yaml:11: the YAML must expand to at most 10,000 nodes"),
    "binary suite file": Case(None, "it must be UTF-8 YAML text, but byte 0 is 0xff",
                              argv=("run", "{tmp}/bin.yaml"),
                              setup=lambda tmp: (tmp / "bin.yaml").write_bytes(b"\xff\xfe\x00n")),
    "seed out of range": Case(("seeds: [0]", "seeds: [99999999999999999999]"),
                              "tiny.yaml:7: 0 <= seed <= 2**32 - 1 must hold"),
    "negative seed": Case(("seeds: [0]", "seeds: [-1]"),
                          "tiny.yaml:7: 0 <= seed <= 2**32 - 1 must hold, but got -1."),
    "infinite size_scale": Case(("trials: 1", "trials: 1\nsize_scale: .inf"),
                                "tiny.yaml:7: size_scale must be a finite number, but got inf."),
    "one-class image folder": Case(("[synth_far]", "[{name: imagefolder, root: one}]"),
                                   "at least 2 classes must hold, but got 1 (only 'c0')",
                                   setup=_one_class),
    "suite file not .yaml": Case(None, "it must end in .yaml or .yml, but it ends in .txt",
                                 argv=("run", "{tmp}/tiny.txt"),
                                 setup=lambda tmp: (tmp / "tiny.txt").write_text(BASE)),
    "CUDA device without a GPU": Case(("batch_size: 16", "batch_size: 16, device: 'cuda:7'"),
                                      "train.device 'cuda:7'"),
    "pretraining that diverges": Case(("epochs: 1}", "epochs: 1, lr: 1.0e+9}"),
                                      "a finite training loss must hold"),
    "cache folder that is a file": Case(None, "it must be a folder, but it is a file",
                                        args=("--cache-dir", "{tmp}/afile"),
                                        setup=_a_file_in_the_way),
    "more workers than the machine holds": Case(None, "--n-workers <= ",
                                                args=("--n-workers", "1000")),
    "report folder that is a file": Case(None, "report folder", setup=_report_file),
    "report of a file": Case(None, "it must be a folder, but it is a file",
                             argv=("report", "{tmp}/afile"), setup=_a_file_in_the_way),
    "results of another suite": Case(None, "these differ from the run that made them: "
                                     "train.max_epochs.", setup=_other_suite),
    "Optuna journal deleted": Case(None, "it must exist, since", setup=_journal_lost),
    "results table cut mid-row": Case(None, "trials.csv': line 2 must be a whole row",
                                      setup=_row_cut),
    "damaged value in a results table": Case(
        None, "final.csv': line 2 must have test_acc a fraction in [0, 1], but got 'nan'",
        setup=_final_rows(FINAL_ROW.replace(",{},0.5,", ",{},nan,"))),
    "repeated row in a results table": Case(
        None, "final.csv': line 3 must be the only row of cell "
        "test_resnet/synth_far/n20/feature_extraction seed 0, but line 2 has it too",
        setup=_final_rows(FINAL_ROW, FINAL_ROW)),
    "storage of another results folder": Case(
        None, "study 'test_resnet/synth_far/n20/feature_extraction' must belong to the results "
        "folder", args=("--storage", "{tmp}/other.journal"), setup=_other_folders_study),
    "unknown LR schedule": Case(("batch_size: 16", "batch_size: 16, schedule: step"),
                                "train.schedule must be one of cosine, cosine_restarts, "
                                "but got 'step'"),
    "unknown loss": Case(("batch_size: 16", "batch_size: 16, loss: {name: focl}"),
                         "tiny.yaml:9: train.loss.name must be one of cross_entropy, "
                         "weighted_cross_entropy, focal, but got 'focl'. Did you mean: focal?"),
    "negative focal gamma": Case(("batch_size: 16", ("batch_size: 16, loss: {name: focal, "
                                  "gamma: -1}")), "tiny.yaml:9: train.loss.gamma >= 0 must hold"),
    "long tail below 1": Case(("[synth_far]", "[{name: synth_far, long_tail: 0.5}]"),
                              "tiny.yaml:3: long_tail must be 0 or a finite ratio >= 1"),
    "verdict margin out of range": Case(("trials: 1", "trials: 1\nmargin: 0.7"),
                                        "0 < margin < 0.5 must hold, but got 0.7"),
    "compare with a missing folder": Case(None, "must exist, but it does not",
                                          argv=("compare", "{tmp}/results/tiny",
                                                "{tmp}/results/nosuch")),
    "compare with a bad margin": Case(None, "--margin: 0 < margin < 0.5 must hold",
                                      argv=("compare", "{tmp}/results/tiny",
                                            "{tmp}/results/tiny", "--margin", "5")),
    "compare into a file": Case(None, "/afile': it must be a folder (or a new path), "
                                "but it is a file", argv=("compare", "{tmp}/results/tiny",
                                                          "{tmp}/results/tiny", "--out",
                                                          "{tmp}/afile"),
                                setup=_a_file_in_the_way),
    "time box without a unit": Case(None, "--stop-after '90': a duration such as 90s, 9m, 2h "
                                    "or 1h30m must hold", args=("--stop-after", "90")),
    "pack of a folder without a plan": Case(None, "it must hold plan.json",
                                            argv=("pack", "{tmp}/results/tiny", "--out",
                                                  "{tmp}/tiny.tar.xz")),
    "archive over 16 MiB": Case(None, "it must be at most 16 MiB, but it would be 17.0 MiB "
                                "(the biggest part: features/, 17.0 MiB",
                                argv=("pack", "{tmp}/big/tiny", "--out", "{tmp}/big.tar.gz"),
                                setup=_big_folder),
    "unpack onto a results folder": Case(None, "it must be absent or empty before unpacking",
                                         argv=("unpack", "{tmp}/tiny.tar.xz", "--results-dir",
                                               "{tmp}/results"), setup=_archive_of_tiny),
    "archive that climbs out of its folder": Case(
        None, "'tiny/../../evil' is outside it",
        argv=("unpack", "{tmp}/evil.tar.gz", "--results-dir", "{tmp}/results"),
        setup=_escaping_archive),
    "suite name that is no folder name": Case(
        ("name: tiny", "name: '..'"), "tiny.yaml:1: name must be a plain folder name (ASCII "
        "letters, digits, '_', '-' and '.', starting with a letter or digit, at most 100 "
        "characters), but got '..'."),
    "status of a file": Case(None, "/afile': it must be a folder, but it is a file. Pass the "
                             "folder", argv=("status", "{tmp}/afile"),
                             setup=_a_file_in_the_way),
    "storage that is a folder": Case(None, "it must be a journal file path (ending in .journal) "
                                     "or a database URL (sqlite:///optuna.db, postgresql://"
                                     "user@host/db), but got a folder.",
                                     args=("--storage", "{tmp}/results")),
    "image class too small to validate": Case(
        ("[synth_far]", "[{name: imagefolder, root: {tmp}/few, sizes: [4]}]"),
        "got class 'c1' with 0 available for a share of 1 (available per class: 'c0' 7, 'c1' "
        "0). Add samples of class 'c1'", setup=_small_class),
}



def _earlier_results(tmp: Path) -> Path:
    """A results folder as an earlier run of the suite left it."""
    out = tmp / "results" / "tiny"
    (out / "report").mkdir(parents=True)
    for table, columns in TABLES.items():
        (out / f"{table}.csv").write_text(",".join(columns) + "\n")
    (out / "report" / "report.md").write_text("# an earlier report\n")
    (out / "suite.yaml").write_text("name: tiny\n")
    (out / "optuna.journal").write_text("")
    return tmp / "results"


def _argv(case: Case, tmp: Path) -> list[str]:
    """Write the case's suite; its command line."""
    text = BASE if case.change is None else BASE.replace(*case.change)
    (tmp / "tiny.yaml").write_text(text.replace("{tmp}", str(tmp)))
    argv = case.argv or ("run", "{tmp}/tiny.yaml", "--results-dir", "{tmp}/results",
                         "--cache-dir", "{tmp}/cache", "--no-progress", *case.args)
    return [a.replace("{tmp}", str(tmp)) for a in argv]


def _check(code: int, err: str, needle: str, tmp: Path, results: Path, before: dict) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("ftbench: error: "), err
    assert "Traceback" not in err and needle in err and "s3cret" not in err, err
    assert digest(results) == before
    assert not (tmp / "cache").exists() and not (tmp / "pwned").exists()
    assert not (tmp / "big.tar.gz").exists() and not list(tmp.glob(".*.tar.*"))  # packs


@pytest.mark.parametrize("name", CATALOGUE)
def test_bad_input_is_one_line_exit_2_and_nothing_in_results_changes(tmp_path, capsys, name):
    case = CATALOGUE[name]
    results = _earlier_results(tmp_path)
    if case.setup:
        case.setup(tmp_path)
    before = digest(results)
    code = main(_argv(case, tmp_path))
    _check(code, capsys.readouterr().err, case.needle, tmp_path, results, before)


@pytest.mark.parametrize("name", ["python tag in YAML", "unreachable PostgreSQL"])
def test_the_installed_command_prints_no_traceback(tmp_path, name):
    case = CATALOGUE[name]
    results = _earlier_results(tmp_path)
    before = digest(results)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.cli", *_argv(case, tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    _check(proc.returncode, proc.stderr, case.needle, tmp_path, results, before)


@pytest.fixture
def locked_folder(tmp_path):
    """A results parent that this process cannot write to (as root: immutable, via chattr)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    immutable = os.geteuid() == 0
    if immutable and (shutil.which("chattr") is None or subprocess.run(
            ["chattr", "+i", str(folder)], capture_output=True, check=False).returncode):
        folder.chmod(0o700)
        pytest.skip("running as root, where chmod does not stop writes, and chattr +i is "
                    "not available on this file system")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o700)


def test_an_unwritable_results_folder_is_one_line(tmp_path, capsys, locked_folder):
    (tmp_path / "tiny.yaml").write_text(BASE)
    before = digest(locked_folder)
    code = main(["run", str(tmp_path / "tiny.yaml"), "--results-dir", str(locked_folder),
                 "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    _check(code, capsys.readouterr().err, "must be a writable folder", tmp_path, locked_folder,
           before)


def test_a_run_that_cannot_start_leaves_no_new_results_folder(tmp_path, capsys):
    case = CATALOGUE["pretraining that diverges"]
    argv = _argv(case, tmp_path)  # into {tmp}/results, which does not exist yet
    assert main(argv) == 2 and case.needle in capsys.readouterr().err
    assert not (tmp_path / "results" / "tiny").exists()  # before: an empty optuna.journal
