"""``--stop-after``: a time-boxed run starts a training (a tuning trial or a final seed) only
when its estimated longest duration ends before the deadline; otherwise it stops between two
trainings, with nothing running and nothing lost, and the same command resumes it.

The estimate of one training is an upper bound: every budgeted epoch at the measured seconds
per training image (:mod:`benchmarks.results.speed`) of the cell, or of its backbone and
strategy, whichever is slower, from the rows of ``trials.csv`` and ``final.csv`` (the rows of
this invocation when it has timed that backbone and strategy: after ``ftbench unpack`` the
older rows were timed on another machine), times :data:`MARGIN`. Before any row of the
backbone and strategy is timed, it is the ``--dry-run`` estimate instead: the training and
inference images per second measured on this machine at the start of the run
(``backbones.csv``), with every parameter trained, times :data:`UNTIMED_MARGIN`. A final seed
adds the scoring of the test split, and every training :data:`OVERHEAD_S`.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.results.csv_check import csv_float
from benchmarks.results.speed import measure_speed
from benchmarks.results.status import read_rows

if TYPE_CHECKING:  # light to import: the CLI parses --stop-after before torch loads
    from benchmarks.driver.cell import CellRun

EXIT_STOPPED = 3
"""Exit code of a run (or worker) that ``--stop-after`` stopped before the suite was done."""
MARGIN = 1.1
"""Factor on a training's budget at its measured speed (timing noise between trainings)."""
UNTIMED_MARGIN = 1.5
"""Factor on the estimate from a few measured steps, before any training of the backbone and
strategy is timed: data handling, the strategy's own costs and the noise of a short
measurement are not in it."""
OVERHEAD_S = 2.0
"""Seconds per training outside its timed epochs: building the model, MLflow, the rows."""

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?"
                       r"(?:(\d+(?:\.\d+)?)s)?")
_UNIT_S = (86400.0, 3600.0, 60.0, 1.0)


def parse_duration(text: str, option: str = "--stop-after") -> float:
    """Seconds of a duration written ``90s``, ``9m``, ``2h``, ``1h30m`` or ``1d12h``.

    Raises:
        ValueError: one line naming the option, the value and how to write it.
    """
    match = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or match is None:
        raise ValueError(f"{option} '{text}': a duration such as 90s, 9m, 2h or 1h30m must "
                         f"hold, but got '{text}'. Write numbers with their units (d, h, m, "
                         "s), largest first, without spaces.")
    seconds = sum(float(n) * unit for n, unit in zip(match.groups(), _UNIT_S) if n)
    if not seconds > 0:
        raise ValueError(f"{option} '{text}': a duration > 0 must hold, but got {seconds:g} "
                         "seconds. Give the run some time, e.g. 30m.")
    return seconds


class TimeUp(Exception):
    """The next training cannot finish before the deadline: the run stops before it."""

    def __init__(self, run: CellRun, kind: str, estimate_s: float, left_s: float) -> None:
        self.folder: Path = run.writer.folder
        self.kind = kind  # trial, final, or wait (on a training in another worker)
        self.label = f"{run.cell.key} {_KINDS[kind]}"
        self.estimate_s, self.left_s = estimate_s, left_s
        super().__init__(f"the next training ({self.label}, at most {estimate_s:.0f} s) cannot "
                         f"finish in the {max(0.0, left_s):.0f} s left")


_KINDS = {"trial": "trial", "final": "final seed",
          "wait": "waits on its last training, in another worker (or in one that died too "
                  "recently to tell)"}


class TimeBox:
    """The deadline of a run and the estimate that guards each training's start.

    Args:
        deadline: ``time.time()`` by which every training must have ended; None: no limit.
        older: how many rows ``trials.csv`` and ``final.csv`` had when the run started (as
            its start read them once): the rows before them were timed by older runs.
        clock: the clock of ``deadline`` (a test passes its own).
    """

    def __init__(self, deadline: float | None, older: tuple[int, int] = (0, 0),
                 clock: Callable[[], float] = time.time) -> None:
        self.deadline = deadline
        self._clock = clock
        self._train: dict[str, float] = {}  # backbone -> training images/s measured here
        self._older = older

    def gate(self, run: CellRun, kind: str) -> Callable[[], None]:
        """The check to call just before a training of ``kind`` (``trial`` or ``final``)
        of ``run``'s cell starts."""
        return functools.partial(self.check, run, kind)

    def check(self, run: CellRun, kind: str) -> None:
        """Raise :class:`TimeUp` if a training of ``kind`` of ``run``'s cell started now
        might end after the deadline."""
        if self.deadline is None:
            return
        estimate = self.estimate(run, kind)
        left = self.deadline - self._clock()
        if estimate > left:
            raise TimeUp(run, kind, estimate, left)

    def check_wait(self, run: CellRun, wait_s: float) -> None:
        """Raise :class:`TimeUp` if waiting ``wait_s`` seconds more for ``run``'s cell, whose
        last training runs elsewhere, would pass the deadline: a waiting worker stops too."""
        if self.deadline is not None and wait_s > (left := self.deadline - self._clock()):
            raise TimeUp(run, "wait", wait_s, left)

    def estimate(self, run: CellRun, kind: str) -> float:
        """Seconds that one training of ``kind`` of ``run``'s cell takes at most."""
        n_train, epochs = run.cell.n_train, run.train_cfg.max_epochs
        rate = self._measured_rate(run)
        if rate is not None:
            seconds = MARGIN * rate * n_train * epochs
        else:
            n_val = len(run.split.val_idx)
            seconds = UNTIMED_MARGIN * epochs * (n_train / self._train_rate(run)
                                                 + n_val / self._infer_rate(run))
        if kind == "final":
            seconds += len(run.task.test.labels) / self._infer_rate(run)
        return seconds + OVERHEAD_S

    def _measured_rate(self, run: CellRun) -> float | None:
        """Seconds per training image and epoch of the cell or of its backbone and strategy,
        whichever is slower, from this invocation's rows if they time them, else from all."""
        folder = run.writer.folder
        trials, final = (read_rows(folder / f"{t}.csv")[0] for t in ("trials", "final"))
        newer = (trials[self._older[0]:], final[self._older[1]:])
        for rows in (newer, (trials, final)):
            rate = _slowest_rate(run, *rows)
            if rate is not None:
                return rate
        return None

    def _train_rate(self, run: CellRun) -> float:
        """Training images per second of the cell's backbone in its memory format on this
        machine: ``backbones.csv``'s, else (the suite set the format, so none was measured)
        measured now, as ``--dry-run`` does."""
        key = run.cell.backbone
        if key not in self._train:
            train = _costs_row(run)[0]
            if train is None:
                from benchmarks.models.backbones import create_backbone
                from benchmarks.models.memory_format import measure_formats

                size = int(run.task.train.images.shape[-1])
                rates = measure_formats(
                    lambda: create_backbone(run.model, len(run.task.classes)), size,
                    run.train_cfg.batch_size, run.train_cfg.device)
                train = rates[1] if run.train_cfg.channels_last else rates[0]
            self._train[key] = train
        return self._train[key]

    def _infer_rate(self, run: CellRun) -> float:
        """Inference images per second of the cell's backbone (``backbones.csv``); its
        training rate, a lower one, where that has none."""
        return _costs_row(run)[1] or self._train_rate(run)


UNLIMITED = TimeBox(None)
"""No deadline: every check passes."""


def _slowest_rate(run: CellRun, trials: list[dict], final: list[dict]) -> float | None:
    """The larger of the cell's and its backbone and strategy's seconds per image in these
    rows; None if neither is timed."""
    c = run.cell

    def pair(row: dict) -> bool:
        return row.get("backbone") == c.backbone and row.get("strategy") == c.strategy

    def cell(row: dict) -> bool:
        return pair(row) and row.get("dataset") == c.dataset and \
            csv_float(row.get("n_train")) == c.n_train

    rates = [measure_speed([r for r in trials if mine(r)],
                           [r for r in final if mine(r)]).total.seconds_per_image
             for mine in (pair, cell)]
    timed = [r for r in rates if r is not None]
    return max(timed) if timed else None


def _costs_row(run: CellRun) -> tuple[float | None, float | None]:
    """Training images per second in the format the cell trains in, and inference images per
    second, as ``backbones.csv`` records them for its backbone (None where it has none)."""
    path = run.writer.folder / "backbones.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text()))) if path.is_file() else []
    row = next((r for r in rows if r.get("backbone") == run.cell.backbone), {})
    column = "train_img_per_s_channels_last" if run.train_cfg.channels_last \
        else "train_img_per_s"
    return csv_float(row.get(column)), csv_float(row.get("infer_img_per_s"))
