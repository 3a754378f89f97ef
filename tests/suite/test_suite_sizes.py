"""Size specifications in suite files: counts, per-class counts, fractions, 'all'."""

from __future__ import annotations

import pytest

from benchmarks.data import SizeSpec
from benchmarks.driver.grid import cells, resolve_plan
from benchmarks.driver.runner import preflight
from benchmarks.suite.model import load_suite, suite_from_dict

BASE = {
    "name": "s",
    "backbones": ["test_resnet"],
    "datasets": ["synth_far"],
    "strategies": ["feature_extraction"],
}


def _suite(**changes):
    return suite_from_dict({**BASE, **changes}, "test suite")


def test_every_size_form_resolves_against_the_pool():
    suite = _suite(sizes=[30, "5/class", "15%", "all"], epochs_by_size={"15%": 7, "all": 2})
    checked = preflight(suite)
    tasks, plan = checked.tasks, checked.plan
    pool = len(tasks["synth_far"].train.labels)
    resolved = {spec.label: n for spec, n in plan["synth_far"].items()}
    largest = resolved["all"]
    assert resolved["30"] == 30 and resolved["5/class"] == 5 * 10
    assert resolved["15%"] == round(0.15 * largest)
    assert largest + round(0.2 * largest) <= pool
    assert suite.train_config(SizeSpec.parse("15%")).max_epochs == 7
    assert suite.train_config(SizeSpec.parse(30)).max_epochs == suite.train.max_epochs


def test_two_sizes_that_mean_the_same_count_are_refused():
    suite = _suite(sizes=["100%", "all"])
    tasks = preflight(_suite(sizes=[10])).tasks
    with pytest.raises(ValueError, match="'100%' and 'all' must differ, but both mean"):
        resolve_plan(suite, tasks)


def test_a_dataset_can_have_its_own_sizes_and_cells_follow_them():
    suite = _suite(datasets=["synth_far", {"name": "synth_near", "sizes": [20, "all"]}],
                   sizes=[40, 10], epochs_by_size={"all": 3})
    plan = preflight(suite).plan
    grid = cells(suite, plan)
    far = [c.n_train for c in grid if c.dataset == "synth_far"]
    near = [c for c in grid if c.dataset == "synth_near"]
    assert far == [10, 40]  # increasing, whatever order the suite writes
    assert [c.size_label for c in near] == ["20", "all"] and near[1].n_train > 20
    assert suite.train_config(near[1].size).max_epochs == 3


def test_sizes_survive_the_yaml_round_trip():
    suite = _suite(datasets=["synth_far", {"name": "synth_near", "sizes": ["5/class"]}],
                   sizes=[30, "15%", "all"], epochs_by_size={30: 9, "all": 2, "5/class": 4})
    written = suite.to_dict()
    assert written["sizes"] == [30, "15%", "all"]
    assert written["epochs_by_size"] == {30: 9, "all": 2, "5/class": 4}
    assert written["datasets"][1]["sizes"] == ["5/class"]
    assert suite_from_dict(written) == suite


@pytest.mark.parametrize("changes,needle", [
    ({"sizes": ["120%"]}, "at most 100%"),
    ({"sizes": [0]}, "positive integer"),
    ({"sizes": ["10/img"]}, "'10/class'"),
    ({"sizes": [10, "10"]}, "must be distinct"),
    ({"sizes": []}, "at least one size"),
    ({"sizes": [10], "epochs_by_size": {20: 3}}, "keys must be among the sizes"),
    ({"sizes": [10], "epochs_by_size": {10: 0}}, "integer >= 1"),
    ({"sizes": [10], "epochs_by_size": [10]}, "must be a mapping"),
])
def test_bad_sizes_are_clear(changes, needle):
    with pytest.raises(ValueError, match=needle):
        _suite(**changes)


def test_a_size_larger_than_the_pool_names_the_dataset_and_the_way_out():
    with pytest.raises(ValueError, match=r"dataset 'synth_far'.*Use 'all'"):
        preflight(_suite(sizes=[100_000]))


def test_the_fashion_suite_spans_the_three_regimes_on_the_near_target():
    suite = load_suite("fashion")
    near = suite.datasets[0]
    assert {suite.regime(spec.value) for spec in suite.sizes_of(near)} == {"<1k", "1k-10k", ">10k"}
    assert suite.sizes_of(suite.datasets[1]) != suite.sizes  # digits has its own sizes
