"""Tests of the dataset registry: listing, loading, errors and fingerprints."""

import pytest
import torch

from benchmarks.data import TaskData, dataset_fingerprint, list_datasets, load_dataset

BUILT_IN = ["digits", "synth_far", "synth_near", "synth_source"]


def test_list_datasets_with_wildcards():
    assert set(BUILT_IN) <= set(list_datasets())
    assert list_datasets() == sorted(list_datasets())
    assert list_datasets("synth_*") == ["synth_far", "synth_near", "synth_source"]
    assert list_datasets("*igit*") == ["digits"]
    assert list_datasets("nothing*") == []


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="synth_nera") as error:
        load_dataset("synth_nera")
    message = str(error.value)
    assert "Did you mean: synth_near" in message and "digits" in message


@pytest.mark.parametrize(
    ("name", "family", "n_classes", "n_train", "n_test"),
    [
        ("synth_near", "near", 10, 4000, 1000),
        ("synth_far", "far", 10, 4000, 1000),
        ("digits", "far", 10, 1257, 540),
    ],
)
def test_task_contract(name, family, n_classes, n_train, n_test):
    data = load_dataset(name)
    assert isinstance(data, TaskData)
    assert (data.name, data.family, len(data.classes)) == (name, family, n_classes)
    for split, size in ((data.train, n_train), (data.test, n_test)):
        assert split.images.shape == (size, 3, 32, 32) and split.images.dtype == torch.uint8
        assert split.images.is_contiguous()
        assert split.labels.shape == (size,) and split.labels.dtype == torch.int64
        assert torch.equal(torch.unique(split.labels), torch.arange(n_classes))


def test_digits_has_all_1797_images_and_full_range():
    data = load_dataset("digits")
    assert len(data.train.labels) + len(data.test.labels) == 1797
    assert data.classes == tuple(str(d) for d in range(10))
    assert data.train.images.max() == 255 and data.train.images.min() == 0
    assert torch.equal(data.train.images[:, 0], data.train.images[:, 2])


def test_loads_are_identical_and_owned_by_the_caller():
    first = load_dataset("synth_near")
    first.train.images.zero_()
    second = load_dataset("synth_near")
    assert second.train.images.any()
    assert torch.equal(second.test.images, load_dataset("synth_near").test.images)


def test_fingerprints_are_stable_and_distinct():
    prints = [dataset_fingerprint(name) for name in BUILT_IN]
    assert prints == [dataset_fingerprint(name) for name in BUILT_IN]
    assert len(set(prints)) == len(prints)
    assert all(len(p) == 12 and int(p, 16) >= 0 for p in prints)
    with pytest.raises(ValueError, match="synth_sorce"):
        dataset_fingerprint("synth_sorce")
