"""Datasets of the benchmark: registry of offline tasks, synthetic generators and splits."""

from benchmarks.data.registry import (
    DatasetSpec,
    ImageSet,
    TaskData,
    dataset_fingerprint,
    list_datasets,
    load_dataset,
    register_dataset,
)
from benchmarks.data.splits import Split, make_splits, validation_size

__all__ = [
    "DatasetSpec",
    "ImageSet",
    "Split",
    "TaskData",
    "dataset_fingerprint",
    "list_datasets",
    "load_dataset",
    "make_splits",
    "register_dataset",
    "validation_size",
]
