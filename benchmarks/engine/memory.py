"""Memory of a training run: its peak (GPU memory allocated by torch, or the process's peak
RSS), and what to do when it runs out."""

from __future__ import annotations

import gc
import resource
import sys

import torch

from benchmarks.messages import first_line


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


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is torch's out-of-memory error (CUDA, MPS or a CPU allocator)."""
    return isinstance(exc, torch.OutOfMemoryError)


def out_of_memory_reason(exc: BaseException) -> str:
    """One line for ``trials.csv``: what ran out and how to make the run fit."""
    return (f"out of memory ({first_line(exc, 300)}). Lower train.batch_size, use "
            "train.precision: bf16, or pick a smaller backbone or input_size.")


def release_memory() -> None:
    """Free what a failed run left behind: collect garbage, then empty the CUDA cache.

    Call it after the failure's traceback is gone (outside its ``except`` block), so that
    the tensors its frames held are released first.
    """
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
