"""Shared matplotlib (Agg) machinery of the report's figures: files, grids, styles, legends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from report.plot_data import ordered_strategies

PANEL_SIZE = (4.2, 3.2)
MAX_COLS = 3
"""Panels per row at most: three 4.2-inch panels at 110 dpi show at 0.8 of their size or
more on a 1280-pixel page."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass(frozen=True)
class FigureFile:
    """A rendered figure and where it was written.

    Attributes:
        name: File stem, e.g. ``accuracy_by_size``.
        caption: One-sentence description shown under the figure.
        png: Path of the PNG file.
        svg: Path of the SVG file.
    """

    name: str
    caption: str
    png: Path
    svg: Path


def plot_text(value: object) -> str:
    """User-derived text for matplotlib: '$' would otherwise start mathtext."""
    return str(value).replace("$", r"\$")


def strategy_styles(strategies: list[str]) -> dict[str, tuple[tuple, str]]:
    """A stable (colour, marker) per strategy, shared by every figure."""
    cmap = matplotlib.colormaps["tab10"]
    ordered = ordered_strategies(strategies)
    return {s: (cmap(i % 10), MARKERS[i % len(MARKERS)]) for i, s in enumerate(ordered)}


def grid(n_rows: int, n_cols: int, sharex: bool = False) -> tuple[Figure, list[list[Axes]]]:
    fig = Figure(figsize=(PANEL_SIZE[0] * n_cols, PANEL_SIZE[1] * n_rows + 0.6),
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=sharex)
    return fig, [list(row) for row in axes]


def group_grid(counts: list[int], max_cols: int = MAX_COLS
               ) -> tuple[Figure, list[list[Axes]], list[list[Axes]]]:
    """Axes for groups of panels (a group per dataset, say, a panel per size): each group
    starts a row and wraps into balanced rows of at most ``max_cols`` panels (4 panels: 2
    rows of 2); the axes left over are hidden.

    Returns:
        The figure, its grid (for :func:`legend`) and each group's axes, in order.
    """
    heights = [max(1, _ceil_div(n, max_cols)) for n in counts]
    widths = [max(1, _ceil_div(n, h)) for n, h in zip(counts, heights)]
    fig, axes = grid(sum(heights), max(widths, default=1))
    groups, top = [], 0
    for n, width, height in zip(counts, widths, heights):
        rows = axes[top:top + height]
        mine = [ax for row in rows for ax in row[:width]]
        for ax in [ax for row in rows for ax in row[width:]] + mine[n:]:
            ax.set_axis_off()
        groups.append(mine[:n])
        top += height
    return fig, axes, groups


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def flat(axes: list[list[Axes]]) -> list[Axes]:
    """The axes of a grid, row by row."""
    return [ax for row in axes for ax in row]


def panel_grid(n_panels: int, n_cols: int) -> tuple[Figure, list[list[Axes]]]:
    """A grid of ``n_panels`` axes, ``n_cols`` a row at most; the unused ones hidden."""
    fig, axes = grid(_ceil_div(n_panels, n_cols), min(n_cols, n_panels))
    for ax in flat(axes)[n_panels:]:
        ax.set_axis_off()
    return fig, axes


def save(fig: Figure, out_dir: Path, name: str, caption: str) -> FigureFile:
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    fig.savefig(png, dpi=110, bbox_inches="tight", metadata={"Software": None})
    with matplotlib.rc_context({"svg.hashsalt": "ftbench"}):
        fig.savefig(svg, bbox_inches="tight", metadata={"Date": None})
    return FigureFile(name, caption, png, svg)


def panel_title(dataset: str, backbone: str, show_backbone: bool) -> str:
    return plot_text(f"{dataset} / {backbone}" if show_backbone else dataset)


def legend(fig: Figure, axes: list[list[Axes]]) -> None:
    handles, labels = {}, []
    for ax in flat(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    if labels:
        fig.legend([handles[lb] for lb in labels], labels, loc="outside lower center",
                   ncol=min(len(labels), 4), frameon=False)


def empty_figure(out_dir: Path, name: str, caption: str, message: str) -> FigureFile:
    fig, axes = grid(1, 1)
    axes[0][0].text(0.5, 0.5, message, ha="center", va="center")
    axes[0][0].set_axis_off()
    return save(fig, out_dir, name, caption)
