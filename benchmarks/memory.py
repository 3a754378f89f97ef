"""Peak memory of a training run: GPU memory allocated by torch, or the process's peak RSS."""

from __future__ import annotations

import resource
import sys

import torch


def peak_rss_mb() -> float:
    """The peak resident set size of this process so far, in MiB (Linux and macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


class PeakMemory:
    """Measures the peak memory of one run on ``device``.

    On CUDA: ``torch.cuda.max_memory_allocated`` since this object was made (the counter is
    reset here). Elsewhere: the process's peak RSS, which the OS never resets, so it is the
    peak of the whole process up to the end of this run, including the data held in memory.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = torch.device(device)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_mb(self) -> float:
        """The peak so far, in MiB."""
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        return peak_rss_mb()
