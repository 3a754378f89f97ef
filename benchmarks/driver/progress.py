"""Progress display of a whole suite: one bar, weighted by images, with the current cell.

The ETA covers everything left: every unit of work (a trial, a final seed, the pretraining)
is budgeted at its maximum number of epochs, and each epoch weighs the images it trains and
scores, so that an epoch of a 10,000-image cell counts 40 times one of 250 images. When a
unit stops early (pruned, early-stopped, skipped) its unspent budget is counted as done, so
the bar reaches 100% exactly at the end. Where the output is not a terminal (a log file, a
batch job), the bar is hidden and a line is printed per finished cell instead.
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

LABEL_WIDTH = 40
"""The most characters of the bar's label, so that bar and ETA fit 80 columns."""


class Progress:
    """Counts image-epochs over the whole suite, for a bar whose ETA is honest."""

    def __init__(self, total: int, enabled: bool | None = None) -> None:
        self.bar = tqdm(total=total, dynamic_ncols=True,
                        disable=None if enabled is None else not enabled,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")
        self.lines = enabled is None and self.bar.disable  # no terminal: a line per cell
        self.total = total
        self.done = 0
        self._unit_epochs = 0
        self._weight = 1
        self._cell = ""
        self.label = ""

    def set_cell(self, index: int, total: int) -> None:
        """Show which cell of the grid runs (1-based) in every following label."""
        self._cell = f"{index}/{total} "

    def start(self, label: str, weight: int = 1) -> None:
        """A new unit of work begins; each of its epochs weighs ``weight`` (its images)."""
        self._unit_epochs = 0
        self._weight = max(1, int(weight))
        self.label = _shorten(self._cell + label)
        self.bar.set_description(self.label, refresh=True)

    def epoch(self) -> None:
        """One epoch of the current unit is done."""
        self._unit_epochs += 1
        self._advance(self._weight)

    def finish(self, budget: int) -> None:
        """The current unit ended; count its unspent epoch budget as done."""
        rest = budget - self._unit_epochs
        if rest > 0:
            self._advance(rest * self._weight)
        self._unit_epochs = 0

    def cell_done(self, message: str) -> None:
        """A cell finished: one line on stdout where no bar shows (a log keeps the trail)."""
        if self.lines:
            print(f"{self._cell.strip()} {message}", flush=True)

    def add(self, units: int) -> None:
        """More work than the bar started with (a suite's second stage): grow its total."""
        if units > 0:
            self.total += units
            self.bar.total = self.total
            self.bar.refresh()

    def _advance(self, units: int) -> None:
        """Count units as done, on the bar and in ``done`` (which a hidden bar still keeps)."""
        self.done += units
        self.bar.update(units)

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        self.bar.write(message)

    def warn(self, message: str) -> None:
        """Print a warning line on stderr without breaking the bar."""
        self.bar.write(f"ftbench: warning: {message}", file=sys.stderr)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()


def _shorten(label: str) -> str:
    """``label`` cut in the middle to :data:`LABEL_WIDTH` characters."""
    if len(label) <= LABEL_WIDTH:
        return label
    keep = LABEL_WIDTH - 1
    return label[: keep // 2] + "~" + label[-(keep - keep // 2):]
