"""``ftbench run --dry-run``: the grid, its trainings and a measured time estimate; no file."""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml

from benchmarks.cli.commands import main
from tests.conftest import TINY_SUITE, digest

TWO = TINY_SUITE.replace("strategies: [feature_extraction]",
                         "strategies: [feature_extraction, full_finetune]").replace(
                         "sizes: [20]", "sizes: [20, 40]")


def test_the_dry_run_prints_the_grid_and_an_estimate_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "tiny.yaml").write_text(TWO)
    cache = tmp_path / "cache"
    cache.mkdir()
    before = digest(tmp_path)
    code = main(["run", str(tmp_path / "tiny.yaml"), "--results-dir", str(tmp_path / "out"),
                 "--cache-dir", str(cache), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0 and digest(tmp_path) == before and not (tmp_path / "out").exists()
    assert "= 4 cells" in out and "2 trials + 1 final seeds; 12 trainings in all" in out
    assert "pretraining test_resnet on synth_near: 1 epochs over" in out
    rows = [line for line in out.splitlines() if line.startswith("test_resnet/")]
    assert [r.split()[0] for r in rows] == [
        "test_resnet/synth_far/n20/feature_extraction", "test_resnet/synth_far/n20/full_finetune",
        "test_resnet/synth_far/n40/feature_extraction", "test_resnet/synth_far/n40/full_finetune"]
    speed = re.search(r"([\d,]+) images/s training .*, ([\d,]+) images/s inference", out)
    assert speed and all(float(v.replace(",", "")) > 0 for v in speed.groups())
    assert re.search(r"^total: at most \d", out, re.MULTILINE)
    assert out.rstrip().endswith("nothing was written")


def test_the_estimate_is_the_full_budget_and_one_forward_pass_for_cached_features():
    from benchmarks.data import load_dataset
    from benchmarks.driver.cell import Cell
    from benchmarks.driver.dry_run import Speed, _estimate
    from benchmarks.suite.model import suite_from_dict

    suite = suite_from_dict(yaml.safe_load(TWO))
    task = load_dataset("synth_far")
    speed = Speed(input_size=32, train_img_per_s=100.0, infer_img_per_s=1000.0,
                  channels_last=False, n_blocks=5)
    n_test = len(task.test.labels)
    full = _estimate(suite, Cell("b", "synth_far", 40, "full_finetune"), task, speed)
    assert (full.epochs, full.n_val, full.trainings) == (2, 10, 3)  # val: one per class
    assert full.seconds == pytest.approx(3 * 2 * (40 / 100 + 10 / 1000) + n_test / 1000)
    frozen = _estimate(suite, Cell("b", "synth_far", 40, "feature_extraction"), task, speed)
    assert frozen.seconds == pytest.approx(3 * (40 + 10) / 1000 + n_test / 1000)


def test_a_bad_suite_is_the_usual_one_line_error(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text(TINY_SUITE.replace("sizes: [20]", "sizes: [999999]"))
    assert main(["run", str(tmp_path / "bad.yaml"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "999999" in err


def test_the_dry_run_says_what_seeds_within_reach_may_add():
    from benchmarks.driver.dry_run import _reach_note
    from benchmarks.suite.model import load_suite

    suite = load_suite("quickstart")
    assert _reach_note(suite, 24) == ""
    reach = dataclasses.replace(suite, seeds_within_reach=(3, 4))
    assert _reach_note(reach, 24) == (", and at most 48 more where a verdict is within reach "
                                      "(seeds [3, 4]; not in the estimate below)")
