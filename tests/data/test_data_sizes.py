"""Tests of training-set size specifications: counts, per-class counts, fractions and "all"."""

import itertools

import numpy as np
import pytest
import torch

from benchmarks.data import (
    SizeSpec,
    largest_training_size,
    make_splits,
    resolve_sizes,
    validation_size,
)

BALANCED = np.repeat(np.arange(10), 400)  # largest size 3333: 3333 + 667 validation = 4000
IMBALANCED = np.repeat(np.arange(10), [1000] * 5 + [100] * 5)  # 10:1 between class groups


@pytest.mark.parametrize(
    ("value", "kind", "number", "label"),
    [
        (500, "count", 500, "500"),
        (np.int64(500), "count", 500, "500"),
        ("500", "count", 500, "500"),
        ({"count": 500}, "count", 500, "500"),
        ("10/class", "per_class", 10, "10/class"),
        (" 10 / Class ", "per_class", 10, "10/class"),
        ({"per_class": 10}, "per_class", 10, "10/class"),
        ("15%", "fraction", 0.15, "15%"),
        (0.15, "fraction", 0.15, "15%"),
        ({"fraction": 0.15}, "fraction", 0.15, "15%"),
        ("12.5%", "fraction", 0.125, "12.5%"),
        ("100%", "fraction", 1.0, "100%"),
        (1.0, "fraction", 1.0, "100%"),
        ("all", "all", 1.0, "all"),
        ("ALL", "all", 1.0, "all"),
    ],
)
def test_parse_forms_and_labels(value, kind, number, label):
    spec = SizeSpec.parse(value)
    assert (spec.kind, spec.value, spec.label) == (kind, number, label)
    assert SizeSpec.parse(spec) is spec
    assert SizeSpec.parse(spec.label) == spec


def test_equal_forms_are_equal_and_hashable():
    assert SizeSpec.parse("15%") == SizeSpec.parse(0.15) == SizeSpec.parse({"fraction": 0.15})
    assert hash(SizeSpec.parse("10/class")) == hash(SizeSpec.parse({"per_class": 10}))
    assert SizeSpec.parse("all") != SizeSpec.parse("100%")
    with pytest.raises(AttributeError):
        SizeSpec.parse(500).value = 3


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (-5, "positive integer"),
        (0, "positive integer"),
        ("0/class", "positive integer"),
        ({"per_class": 0}, "positive integer"),
        ({"per_class": 2.5}, "positive integer"),
        ("101%", "0 < fraction <= 1"),
        (1.5, "0 < fraction <= 1"),
        (0.0, "0 < fraction <= 1"),
        ("0%", "0 < fraction <= 1"),
        (500.0, "0 < fraction <= 1"),
        ("abc", "a known size form"),
        ("-5", "a known size form"),
        ("10/klass", "'<count>/class'"),
        ({"per_klass": 10}, "exactly one key"),
        ({"count": 1, "fraction": 0.5}, "exactly one key"),
        (True, "a number, a string"),
        (None, "a number, a string"),
    ],
)
def test_invalid_forms_raise_with_the_value(value, fragment):
    with pytest.raises(ValueError, match="must hold, but got") as error:
        SizeSpec.parse(value)
    assert fragment in str(error.value) and repr(value) in str(error.value)


def test_misspelt_per_class_suggests_the_fix():
    with pytest.raises(ValueError, match="Write '10/class'"):
        SizeSpec.parse("10/klass")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(500, 500), ("10/class", 100), ("15%", 500), (0.3, 1000), ("50%", 1667),
     ("100%", 3333), ("all", 3333)],
)  # fmt: skip
def test_resolve_balanced_pool(value, expected):
    assert largest_training_size(BALANCED) == 3333
    assert SizeSpec.parse(value).resolve(BALANCED, 0.2) == expected


def test_fraction_follows_val_fraction_and_accepts_tensors():
    largest = largest_training_size(BALANCED, 0.5)
    assert largest + validation_size(largest, 10, 0.5) <= len(BALANCED)
    assert SizeSpec.parse("all").resolve(torch.from_numpy(BALANCED), 0.5) == largest
    assert SizeSpec.parse("30%").resolve(BALANCED, 0.5) == round(0.3 * largest)


@pytest.mark.parametrize("value", [3334, "334/class"])
def test_too_large_names_the_largest_size_and_suggests_all(value):
    with pytest.raises(ValueError, match=r"size <= 3333 .* Use 'all'"):
        SizeSpec.parse(value).resolve(BALANCED)


def test_too_small_for_the_classes_raises():
    with pytest.raises(ValueError, match=r"'1%'.*size >= n_classes"):
        SizeSpec.parse("1%").resolve(BALANCED[::100])  # 40 samples: 1% of 30 rounds to 0


def test_resolve_sizes_sorted_merged_and_splittable():
    resolved = resolve_sizes(["all", "15%", 0.15, "10/class", 200], BALANCED)
    assert {spec.label: n for spec, n in resolved.items()} == {
        "10/class": 100, "200": 200, "15%": 500, "all": 3333,
    }  # fmt: skip
    splits = make_splits(BALANCED, list(resolved.values()))
    assert len(splits[3333].train_idx) + len(splits[3333].val_idx) == len(BALANCED)


@pytest.mark.parametrize("specs", ["15%", [], ["15%", "abc"]])
def test_resolve_sizes_rejects_bad_lists(specs):
    with pytest.raises(ValueError, match="must hold"):
        resolve_sizes(specs, BALANCED)


def test_imbalanced_pool_keeps_ratios_and_nests():
    specs = ["10/class", 200, "15%", "30%", "50%", "all"]
    resolved = resolve_sizes(specs, IMBALANCED)
    assert resolved[SizeSpec.parse("10/class")] == 100  # 10 x classes, not 10 from each
    counts = np.bincount(IMBALANCED)
    splits = make_splits(IMBALANCED, list(resolved.values()))
    for n, split in splits.items():
        got = np.bincount(IMBALANCED[split.train_idx], minlength=10)
        expected = counts * n / counts.sum()
        assert np.all(np.abs(got - expected) <= 1 + 1e-9), (n, got, expected)
        assert got.sum() == n and np.all(got >= 1)
    for small, large in itertools.pairwise(splits.values()):
        assert set(small.train_idx) <= set(large.train_idx)
        assert set(small.val_idx) <= set(large.val_idx)
