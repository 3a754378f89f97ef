"""Tests of stratified nested training subsets and disjoint validation splits."""

import itertools
import re

import numpy as np
import pytest
import torch

from benchmarks.data import Split, make_splits, validation_size

BALANCED = np.repeat(np.arange(10), 400)
UNBALANCED = np.concatenate([np.full(n, c) for c, n in enumerate([500, 300, 120, 60, 20])])
SIZES = [500, 10, 50, 100, 50, 2000]


@pytest.fixture(params=["balanced", "unbalanced"])
def labels(request):
    return BALANCED if request.param == "balanced" else UNBALANCED


def _splits(labels, sizes=SIZES, **kwargs):
    sizes = [n for n in sizes if n + validation_size(n, 10, 0.2) <= len(labels) * 0.8]
    return make_splits(labels, sizes, **kwargs)


def test_exact_sizes_and_sorted_keys(labels):
    splits = _splits(labels)
    n_classes = len(np.unique(labels))
    assert list(splits) == sorted(splits)
    for n, split in splits.items():
        assert isinstance(split, Split)
        assert split.train_idx.dtype == np.int64 and split.val_idx.dtype == np.int64
        assert len(split.train_idx) == n == len(np.unique(split.train_idx))
        assert len(split.val_idx) == max(round(0.2 * n), n_classes)


def test_nested_across_sizes(labels):
    splits = list(_splits(labels).values())
    for small, large in itertools.pairwise(splits):
        assert set(small.train_idx) <= set(large.train_idx)
        assert set(small.val_idx) <= set(large.val_idx)


def test_validation_disjoint_from_every_training_subset(labels):
    splits = _splits(labels).values()
    all_train = set().union(*(set(s.train_idx) for s in splits))
    all_val = set().union(*(set(s.val_idx) for s in splits))
    assert not all_train & all_val


def test_stratified_within_one_and_every_class_present(labels):
    classes, counts = np.unique(labels, return_counts=True)
    for n, split in _splits(labels).items():
        for idx in (split.train_idx, split.val_idx):
            got = np.bincount(labels[idx], minlength=len(classes))
            assert np.all(got >= 1)
            expected = counts * len(idx) / counts.sum()
            assert np.all((np.abs(got - expected) <= 1 + 1e-9) | (got == 1)), (n, got, expected)


def test_deterministic_and_seed_dependent():
    a, b = make_splits(BALANCED, [50, 200], seed=3), make_splits(BALANCED, [200, 50], seed=3)
    c = make_splits(BALANCED, [50, 200], seed=4)
    for n in (50, 200):
        assert np.array_equal(a[n].train_idx, b[n].train_idx)
        assert np.array_equal(a[n].val_idx, b[n].val_idx)
    assert not np.array_equal(a[50].train_idx, c[50].train_idx)


def test_accepts_tensor_labels_and_duplicates():
    splits = make_splits(torch.from_numpy(BALANCED), [30, 30, 20])
    assert list(splits) == [20, 30]
    assert np.array_equal(splits[30].train_idx, make_splits(BALANCED, [30])[30].train_idx)


def test_largest_possible_size_fits_exactly():
    splits = make_splits(BALANCED, [3333])  # 3333 + 667 validation = 4000 = the pool
    assert len(splits[3333].train_idx) + len(splits[3333].val_idx) == len(BALANCED)


@pytest.mark.parametrize(
    ("size", "fragment"),
    [
        (0, "positive integer"),
        (-5, "positive integer"),
        (5, "size >= n_classes"),
        (3334, "size + validation <= pool"),
        (100_000, "size + validation <= pool"),
    ],
)
def test_impossible_sizes_raise_with_the_value(size, fragment):
    with pytest.raises(ValueError, match=rf"'{size}'.*{re.escape(fragment)}") as error:
        make_splits(BALANCED, [50, size])
    assert "Choose a size between 10 and 3333" in str(error.value)


def test_non_integer_size_raises():
    with pytest.raises(ValueError, match="'2.5'"):
        make_splits(BALANCED, [2.5])


def test_class_too_small_for_its_share_raises():
    labels = np.array([0] * 50 + [1] * 50 + [2])  # class 2 has one sample: validation takes it
    with pytest.raises(ValueError, match=r"Training size '10'.*class 2 with 0 available"):
        make_splits(labels, [10])
    with pytest.raises(ValueError, match=r"class 'c' with 0 .*: 'a' 49, 'b' 49, 'c' 0\). Add "
                                         r"samples of class 'c'"):
        make_splits(labels, [10], class_names=("a", "b", "c"))


@pytest.mark.parametrize("bad", [[], "labels"])
def test_bad_arguments_raise(bad):
    with pytest.raises(ValueError):
        if bad == []:
            make_splits(BALANCED, bad)
        else:
            make_splits(np.array(["a", "b"]), [1])


def test_bad_val_fraction_raises():
    with pytest.raises(ValueError, match="val_fraction"):
        make_splits(BALANCED, [50], val_fraction=1.0)
