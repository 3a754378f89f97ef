"""Where things stand in a results folder, checked before anything is written there."""

from __future__ import annotations

from pathlib import Path


def check_report_folder(results_dir: Path) -> Path:
    """``results_dir/report``, unless something other than a folder stands at that path.

    Raises:
        ValueError: one line naming the path in the way.
    """
    out = Path(results_dir) / "report"
    if out.exists() and not out.is_dir():
        raise ValueError(f"report folder '{out}': it must be a folder, but it is a file. Move "
                         "that file away and run the command again.")
    return out
