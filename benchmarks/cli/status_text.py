"""``ftbench status``'s text: totals, time spent and left, last update, cells in progress."""

from __future__ import annotations

from datetime import datetime, timezone

from benchmarks.results.status import STATES, SuiteStatus


def format_status(status: SuiteStatus) -> str:
    """A compact human summary: totals, time spent and left, then the cells in progress."""
    s = status
    states = ", ".join(f"{s.states[name]} {name}" for name in STATES)
    lines = [(f"suite {s.suite}: {s.cells_done}/{len(s.cells)} cells done, "
              f"{s.cells_in_progress} in progress, {s.cells_not_started} not started"),
             f"trials: {states} ({s.trials_done} of {s.trials_planned})",
             f"final seeds: {s.seeds_done} of {s.seeds_planned}",
             _spent_line(s), _left_line(s), _update_line(s)]
    no_final = [c.key for c in s.cells if c.seeds_owed < c.seeds_planned]
    if no_final:
        lines.append(f"no COMPLETE trial, so no final seeds: {', '.join(no_final)}")
    if s.partial_rows:
        lines.append(f"left out: {s.partial_rows} last row(s) without an end of line (being "
                     "written right now, or the file was cut short: `ftbench report` tells)")
    if s.ignored_rows:
        lines.append(f"ignored: {s.ignored_rows:,} rows of cells or seeds not in plan.json")
    busy = [c for c in s.cells if c.started and not c.done]
    if busy:
        lines.append("in progress:")
        lines += [f"  {c.key}: trials {c.trials_done}/{c.trials_planned}, "
                  f"seeds {c.seeds_done}/{c.seeds_owed}" for c in busy]
    return "\n".join(lines)


def _spent_line(s: SuiteStatus) -> str:
    """Recorded training time, and what the untimed epochs of pruned trials add."""
    line = f"time spent: {_duration(s.train_time_s)} of training (sum of train_time_s)"
    if s.untimed_epochs:
        rate = s.seconds_per_epoch
        extra = f"about {_duration(s.untimed_epochs * rate)}" if rate else "unknown time"
        line += f", plus {extra} for {s.untimed_epochs:,} untimed epochs of pruned/failed trials"
    return line


def _left_line(s: SuiteStatus) -> str:
    """Estimated time left from the budgeted epochs and the measured seconds per epoch."""
    if s.epochs_left == 0:
        return "time left: none, no budgeted epoch is left"
    to_go = f"{s.epochs_left:,} budgeted epochs to go"
    rate = s.seconds_per_epoch
    if rate is None or s.time_left_s is None:
        return f"time left: unknown until an epoch is timed ({to_go})"
    shown = f"{rate:.2f}" if rate >= 0.1 else f"{rate:.2g}"
    return f"time left: about {_duration(s.time_left_s)} ({shown} s per epoch, {to_go})"


def _update_line(s: SuiteStatus) -> str:
    """When a result row was last written, and when the latest run started."""
    line = "last update: none (no trials.csv or final.csv yet)"
    if s.last_update is not None:
        line = f"last update: {_clock(s.last_update)} ({s.last_update_file})"
    if s.started is not None:
        line += f"; latest run started {_clock(s.started)} (plan.json)"
    return line


def _clock(moment: datetime) -> str:
    """``2026-11-27 15:40:03 UTC``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    """``45s``, ``38m`` or ``1h 02m``."""
    if round(seconds) < 60:
        return f"{round(seconds)}s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h {minutes % 60:02d}m"
