"""Measured training speed of a results folder, per strategy, for ``ftbench status``'s time
left: seconds per training image and epoch (``train_time_s / (n_train x epochs_run)``), and
the share of their epoch budget that trials (pruned early) and final seeds (stopped early)
ran.

Per image, since an epoch of 10,000 images costs 40 times one of 250; per strategy, since
feature extraction on cached features costs a fraction of full fine-tuning."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass
from typing import Protocol

from benchmarks.results.csv_check import csv_float

KINDS = ("trial", "final")
"""Rows of trials.csv and of final.csv."""


@dataclass(frozen=True)
class Timing:
    """Training time of some rows: the recorded seconds; the epochs and image-epochs (n_train
    x epochs_run) of the rows with a ``train_time_s`` and of those without one (pruned and
    failed trials); and the image-epochs their budgets allowed (n_train x max_epochs)."""

    time_s: float = 0.0
    timed_epochs: int = 0
    untimed_epochs: int = 0
    timed_images: int = 0
    untimed_images: int = 0
    budget_images: int = 0

    def __add__(self, other: Timing) -> Timing:
        return Timing(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def seconds_per_image(self) -> float | None:
        """Seconds per training image and epoch; None before any timed epoch."""
        return self.time_s / self.timed_images if self.timed_images else None

    @property
    def budget_share(self) -> float | None:
        """Image-epochs run over image-epochs budgeted; None without a budget."""
        ran = self.timed_images + self.untimed_images
        return ran / self.budget_images if self.budget_images else None


@dataclass(frozen=True)
class Speed:
    """Timing per (strategy, kind of row), and the rates that price an unfinished cell."""

    parts: dict[tuple[str, str], Timing]

    def timing(self, strategy: str | None = None, kind: str | None = None) -> Timing:
        """The rows of one strategy and/or kind together (None: every one)."""
        return sum((t for (s, k), t in self.parts.items()
                    if strategy in (None, s) and kind in (None, k)), Timing())

    @property
    def total(self) -> Timing:
        """Every row's timing together."""
        return self.timing()

    def seconds_per_image(self, strategy: str) -> float | None:
        """The strategy's own measured rate, else (none timed yet) every strategy's."""
        own = self.timing(strategy).seconds_per_image
        return own if own is not None else self.total.seconds_per_image

    def budget_share(self, strategy: str, kind: str) -> float:
        """Share of the epoch budget the strategy's rows of ``kind`` ran; every strategy's
        before its own has a row; 1 before any."""
        own = self.timing(strategy, kind).budget_share
        if own is not None:
            return own
        anyone = self.timing(kind=kind).budget_share
        return 1.0 if anyone is None else anyone

    @property
    def untimed_s(self) -> float | None:
        """Estimated seconds of the untimed epochs, each at its strategy's rate."""
        seconds = 0.0
        for (strategy, _), timing in self.parts.items():
            if timing.untimed_images:
                rate = self.seconds_per_image(strategy)
                if rate is None:
                    return None
                seconds += timing.untimed_images * rate
        return seconds


class _Cell(Protocol):
    """What pricing a cell reads of :class:`benchmarks.results.status.CellProgress`."""

    strategy: str
    n_train: int
    max_epochs: int

    @property
    def done(self) -> bool: ...

    @property
    def units_left(self) -> dict[str, int]: ...


def seconds_left(cells: Iterable[_Cell], speed: Speed, expected: bool) -> float | None:
    """Seconds to train what is left of ``cells``: budgeted image-epochs at each strategy's
    measured seconds per image, cut (``expected``) to the share of the budget that its
    trials or final seeds ran so far; None before any epoch is timed."""
    seconds = 0.0
    for cell in cells:
        left = {kind: units for kind, units in cell.units_left.items() if units}
        if cell.done or not left:
            continue
        rate = speed.seconds_per_image(cell.strategy)
        if rate is None:
            return None
        for kind, units in left.items():
            share = speed.budget_share(cell.strategy, kind) if expected else 1.0
            seconds += units * cell.max_epochs * cell.n_train * share * rate
    return seconds


def measure_speed(trials: Iterable[dict[str, str]], final: Iterable[dict[str, str]]) -> Speed:
    """Timing of trials.csv and final.csv rows (unreadable cells count 0)."""
    parts: dict[tuple[str, str], Timing] = {}
    for kind, rows in zip(KINDS, (trials, final), strict=True):
        for row in rows:
            key = (row.get("strategy") or "", kind)
            parts[key] = parts.get(key, Timing()) + _row_timing(row)
    return Speed(parts)


def _row_timing(row: dict[str, str]) -> Timing:
    """One CSV row's timing."""
    seconds = csv_float(row.get("train_time_s"))
    epochs = int(csv_float(row.get("epochs_run")) or 0)
    n_train = int(csv_float(row.get("n_train")) or 0)
    images, budget = epochs * n_train, int(csv_float(row.get("max_epochs")) or 0) * n_train
    if seconds is None:
        return Timing(0.0, 0, epochs, 0, images, budget)
    return Timing(seconds, epochs, 0, images, 0, budget)
