"""Bad data input through the CLI: one line, exit 2, and nothing in results/ changes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmarks.cli.commands import main
from benchmarks.results.tables import TABLES
from tests.conftest import digest

SUITE = """
name: tiny
backbones: [test_resnet]
datasets: [{dataset}]
sizes: [{size}]
strategies: [feature_extraction]
trials: 1
seeds: [0]
pretrain: {{dataset: synth_near, epochs: 1}}
"""


def _tree(root, per_class=(6, 6), broken=None, empty=None):
    rng = np.random.default_rng(0)
    for i, count in enumerate(per_class):
        folder = root / f"class{i}"
        folder.mkdir(parents=True)
        for j in range(count):
            Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(
                folder / f"{j}.png")
    if broken:
        (root / "class0" / broken).write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    if empty:
        (root / empty).mkdir()
    return root


def _results_with_rows(root):
    """A results folder as an earlier run left it; returns the digest of every file."""
    out = root / "results" / "tiny"
    (out / "report").mkdir(parents=True)
    (out / "trials.csv").write_text(",".join(TABLES["trials"]) + "\n" + "x," * 5 + "\n")
    (out / "final.csv").write_text(",".join(TABLES["final"]) + "\n")
    (out / "report" / "report.md").write_text("# an earlier report\n")
    (out / "suite.yaml").write_text("name: tiny\n")
    return digest(root / "results")



CASES = {
    "missing root": ("{{name: imagefolder, root: {tmp}/nowhere}}", 4, "nowhere"),
    "corrupt image": ("{{name: imagefolder, root: {tmp}/corrupt}}", 4, "broken.png"),
    "empty class folder": ("{{name: imagefolder, root: {tmp}/empty}}", 4, "class_empty"),
    "too few per class for a test split": ("{{name: imagefolder, root: {tmp}/single}}", 2,
                                           "at least 2 images per class"),
    "size larger than the pool": ("{{name: imagefolder, root: {tmp}/ok}}", 12, "'all'"),
    "unknown dataset": ("fashion_mnits", 4, "fashion_mnist"),
    "fashion files absent": ("{{name: fashion_mnist, root: {tmp}/nowhere_fmnist}}", 4,
                             "train-images-idx3-ubyte"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_data_is_one_line_exit_2_and_results_unchanged(tmp_path, capsys, case):
    _tree(tmp_path / "ok")
    _tree(tmp_path / "corrupt", broken="broken.png")
    _tree(tmp_path / "empty", empty="class_empty")
    _tree(tmp_path / "single", per_class=(6, 1))
    before = _results_with_rows(tmp_path)
    dataset, size, needle = CASES[case]
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE.format(dataset=dataset.format(tmp=tmp_path), size=size))
    code = main(["run", str(suite), "--results-dir", str(tmp_path / "results"),
                 "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert digest(tmp_path / "results") == before


def test_results_written_by_another_version_are_not_appended_to(tmp_path, capsys):
    out = tmp_path / "results" / "tiny"
    out.mkdir(parents=True)
    (out / "trials.csv").write_text("suite,backbone,dataset,n_train\ntiny,a,b,3\n")
    before = digest(tmp_path / "results")
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE.format(dataset="synth_far", size=20))
    code = main(["run", str(suite), "--results-dir", str(tmp_path / "results"),
                 "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "columns must be those of this ftbench version" in err
    assert digest(tmp_path / "results") == before
