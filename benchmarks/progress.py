"""Progress display of a whole suite: one bar in epochs, with the current cell and trial."""

from __future__ import annotations

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
        self._unit_epochs = 0

    def start(self, label: str) -> None:
        """A new unit of work begins."""
        self._unit_epochs = 0
        self.bar.set_description(label, refresh=True)

    def epoch(self) -> None:
        """One epoch of the current unit is done."""
        self._unit_epochs += 1
        self.bar.update(1)

    def finish(self, budget: int) -> None:
        """The current unit ended; count its unspent epoch budget as done."""
        rest = budget - self._unit_epochs
        if rest > 0:
            self.bar.update(rest)
        self._unit_epochs = 0

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        self.bar.write(message)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()
