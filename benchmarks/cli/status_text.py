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
             f"final seeds: {s.seeds_done} of {s.seeds_planned}{_reach_part(s)}",
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


def _reach_part(s: SuiteStatus) -> str:
    """`` (16 of them within reach, in 8 cells)`` where a verdict added seeds."""
    cells = [c for c in s.cells if c.seeds_within_reach]
    if not cells:
        return ""
    return (f" ({sum(c.seeds_within_reach for c in cells)} of them within reach, in "
            f"{len(cells)} cells)")


def _spent_line(s: SuiteStatus) -> str:
    """Recorded training time, and what the untimed epochs of pruned trials add."""
    line = f"time spent: {_duration(s.train_time_s)} of training (sum of train_time_s)"
    untimed = s.speed.total.untimed_epochs
    if untimed:
        extra = s.speed.untimed_s
        extra_text = "unknown time" if extra is None else f"about {_duration(extra)}"
        line += f", plus {extra_text} for {untimed:,} untimed epochs of pruned/failed trials"
    return line


def _left_line(s: SuiteStatus) -> str:
    """An upper bound of the time left: the budgeted epochs at the measured speeds."""
    if s.epochs_left == 0:
        return "time left: none, no budgeted epoch is left"
    to_go = f"{s.epochs_left:,} budgeted epochs, {s.images_left:,} training images, to go"
    if s.time_left_s is None:
        return f"time left: unknown until an epoch is timed ({to_go})"
    return (f"time left: about {_duration(s.expected_left_s or 0.0)} at the pruning and early "
            f"stopping seen so far, at most {_duration(s.time_left_s)} ({to_go}, at each "
            "strategy's measured seconds per image)")


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
