"""A task's images resized once, in memory, to the square input size of a backbone."""

from __future__ import annotations

import dataclasses

from benchmarks.data._images import resize
from benchmarks.data.registry import ImageSet, TaskData


def resize_task(task: TaskData, size: int) -> TaskData:
    """``task`` with every image resized to ``size`` x ``size`` (antialiased, uint8).

    Returns ``task`` itself when its images already have that size, so nothing is copied.
    """
    if tuple(task.train.images.shape[-2:]) == (size, size) and tuple(
        task.test.images.shape[-2:]
    ) == (size, size):
        return task
    return dataclasses.replace(
        task,
        train=ImageSet(resize(task.train.images, size), task.train.labels),
        test=ImageSet(resize(task.test.images, size), task.test.labels),
    )
