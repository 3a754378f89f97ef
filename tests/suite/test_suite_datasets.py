"""Suites name datasets with options: a user's own image folder through the whole pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from benchmarks.cli.commands import main
from benchmarks.suite.model import load_suite

SUITE = """
name: mine
backbones: [test_resnet]
datasets:
  - {{name: imagefolder, root: {root}, image_size: 32, as: my_photos, family: far}}
  - {{name: synth_far, as: textures}}
sizes: [12]
strategies: [feature_extraction]
trials: 2
seeds: [0]
pretrain: {{dataset: synth_near, epochs: 1, batch_size: 256}}
train: {{max_epochs: 2, batch_size: 8}}
"""


def _image_tree(root, classes=("cat", "dog", "owl"), per_class=10):
    rng = np.random.default_rng(0)
    for i, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for j in range(per_class):
            pixels = rng.integers(0, 80, (40, 40, 3), dtype=np.uint8) + 60 * i
            mode = "L" if j % 2 else "RGB"
            Image.fromarray(pixels).convert(mode).save(root / name / f"{j}.png")


def test_user_image_folder_runs_end_to_end_under_its_label(tmp_path):
    _image_tree(tmp_path / "photos")
    suite = tmp_path / "mine.yaml"
    suite.write_text(SUITE.format(root=tmp_path / "photos"))
    args = ["run", str(suite), "--results-dir", str(tmp_path / "r"), "--cache-dir",
            str(tmp_path / "c"), "--no-progress", "--no-report"]
    assert main(args) == 0
    trials = pd.read_csv(tmp_path / "r" / "mine" / "trials.csv")
    assert set(trials.dataset) == {"my_photos", "textures"}
    assert set(trials[trials.dataset == "my_photos"].family) == {"far"}
    final = pd.read_csv(tmp_path / "r" / "mine" / "final.csv")
    assert len(final) == 2 and final.test_acc.between(0, 1).all()
    written = yaml.safe_load((tmp_path / "r" / "mine" / "suite.yaml").read_text())
    assert [d["as"] for d in written["datasets"][:2]] == ["my_photos", "textures"]


@pytest.mark.parametrize("entry,needle", [
    ("[{root: x}]", "mapping with a 'name'"),
    ("[{name: synth_far, family: nearby}]", "'near' or 'far'"),
    ("[synth_far, synth_far]", "must be unique"),
])
def test_bad_dataset_entries_are_clear(tmp_path, entry, needle):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nbackbones: [test_resnet]\ndatasets: {entry}\nsizes: [10]\n"
                    "strategies: [feature_extraction]\n")
    with pytest.raises(ValueError, match=needle):
        load_suite(str(path))


def test_an_unknown_dataset_option_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbackbones: [test_resnet]\n"
                    "datasets: [{name: imagefolder, rot: x}]\nsizes: [10]\n"
                    "strategies: [feature_extraction]\n")
    assert main(["run", str(path), "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "rot" in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
