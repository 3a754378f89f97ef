"""Progress display of a whole suite: one bar in epochs, with the current cell and trial."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


class Progress:
    """Counts epochs over the whole suite so that tqdm's ETA covers everything left.

    Every unit of work (a trial, a final seed, the pretraining) is budgeted at its maximum
    number of epochs; when it stops early (pruned, early-stopped, skipped) the unspent
    budget is counted as done, so the bar reaches 100% exactly at the end.
    """

    def __init__(self, total_epochs: int, enabled: bool | None = None) -> None:
        self.bar = tqdm(total=total_epochs, unit="epoch", dynamic_ncols=True,
                        disable=None if enabled is None else not enabled,
                        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} epochs "
                                   "[{elapsed}<{remaining}]")
        self.total = total_epochs
        self.done = 0
        self._unit_epochs = 0
        self._cell = ""
        self.label = ""

    def set_cell(self, index: int, total: int) -> None:
        """Show which cell of the grid runs (1-based) in every following label."""
        self._cell = f"cell {index}/{total} "

    def start(self, label: str) -> None:
        """A new unit of work begins."""
        self._unit_epochs = 0
        self.label = self._cell + label
        self.bar.set_description(self.label, refresh=True)

    def epoch(self) -> None:
        """One epoch of the current unit is done."""
        self._unit_epochs += 1
        self._advance(1)

    def finish(self, budget: int) -> None:
        """The current unit ended; count its unspent epoch budget as done."""
        rest = budget - self._unit_epochs
        if rest > 0:
            self._advance(rest)
        self._unit_epochs = 0

    def _advance(self, epochs: int) -> None:
        """Count epochs as done, on the bar and in ``done`` (which a hidden bar still keeps)."""
        self.done += epochs
        self.bar.update(epochs)

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        self.bar.write(message)

    def warn(self, message: str) -> None:
        """Print a warning line on stderr without breaking the bar."""
        self.bar.write(f"ftbench: warning: {message}", file=sys.stderr)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()
