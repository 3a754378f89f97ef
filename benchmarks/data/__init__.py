"""Datasets of the benchmark: registry of tasks (synthetic and real), their options and splits."""

from benchmarks.data import builtin, imagefolder, tv  # noqa: F401  (register the datasets)
from benchmarks.data.options import REQUIRED, default_root
from benchmarks.data.registry import (
    DatasetSpec,
    ImageSet,
    TaskData,
    dataset_fingerprint,
    dataset_options,
    list_datasets,
    load_dataset,
    register_dataset,
)
from benchmarks.data.sizes import SizeSpec, resolve_sizes
from benchmarks.data.splits import (
    Split,
    largest_training_size,
    make_splits,
    validation_size,
)

__all__ = [
    "REQUIRED",
    "DatasetSpec",
    "ImageSet",
    "SizeSpec",
    "Split",
    "TaskData",
    "dataset_fingerprint",
    "dataset_options",
    "default_root",
    "largest_training_size",
    "list_datasets",
    "load_dataset",
    "make_splits",
    "register_dataset",
    "resolve_sizes",
    "validation_size",
]
