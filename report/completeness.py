"""Whether a results folder holds a finished run: a report of a partial run says so first."""

from __future__ import annotations

from pathlib import Path

from benchmarks.results.status import suite_status
from report.render import Block, Paragraph


def completeness_blocks(results_dir: Path) -> list[Block]:
    """A warning paragraph when ``plan.json`` lists cells that are not done; nothing for a
    finished run, or for a folder without a plan (hand-made tables: nothing to compare).

    Raises:
        ValueError: plan.json exists but is corrupt (one line, from ``suite_status``).
    """
    if not (Path(results_dir) / "plan.json").is_file():
        return []
    status = suite_status(Path(results_dir))
    total = len(status.cells)
    if status.cells_done == total:
        return []
    return [Paragraph(
        f"INCOMPLETE RUN: {status.cells_done} of {total} cells are done "
        f"({status.trials_done} of {status.trials_planned} trials, {status.seeds_done} of "
        f"{status.seeds_planned} final seeds). Every table and verdict below covers only the "
        "cells done so far and will change; do not cite it. Run the same `ftbench run` "
        "command again to resume, and `ftbench status` to see what is left.")]
