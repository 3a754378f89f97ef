"""The seed of each cell's TPE sampler: the suite's ``sampler_seed`` hashed with the cell's key,
so that cells of one strategy do not all draw the same learning rates; or, in a results folder
tuned before per-cell seeds, the suite's seed itself, so that it resumes as it ran.

Only the sampler: the training and validation splits keep the suite's seed
(:mod:`benchmarks.driver.grid`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from benchmarks.results.fingerprint import PER_CELL, SUITE_WIDE
from benchmarks.results.folder_state import FolderState


def cell_seed(suite_seed: int, cell_key: str) -> int:
    """A seed in ``[0, 2**32)`` from the suite's seed and a cell's key (SHA-256, so the same in
    every process and on every machine, unlike Python's salted ``hash``)."""
    digest = hashlib.sha256(f"{suite_seed}/{cell_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class SamplerSeeds:
    """How the cells of one results folder seed their TPE samplers.

    Attributes:
        suite_seed: the suite's ``sampler_seed``.
        way: :data:`~benchmarks.results.fingerprint.PER_CELL` or
            :data:`~benchmarks.results.fingerprint.SUITE_WIDE`.
    """

    suite_seed: int
    way: str = PER_CELL

    def of(self, cell_key: str) -> int:
        """The sampler seed of the cell ``cell_key`` (``lite0/cifar5/n250/full_finetune``)."""
        if self.way == SUITE_WIDE:
            return self.suite_seed
        return cell_seed(self.suite_seed, cell_key)


def folder_seeds(folder: FolderState, suite_seed: int) -> SamplerSeeds:
    """The sampler seeds of the results folder ``folder``: per cell unless its fingerprint (or
    its lack of one beside a ``suite.yaml``) says it was tuned with the suite's seed."""
    return SamplerSeeds(suite_seed, folder.sampler_seeding)
