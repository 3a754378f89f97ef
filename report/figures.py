"""Matplotlib rendering (Agg) of the report's figures from precomputed plot tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from report.plot_data import ordered_regimes, ordered_strategies

PANEL_SIZE = (4.2, 3.2)
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


def _text(value: object) -> str:
    """User-derived text for matplotlib: '$' would otherwise start mathtext."""
    return str(value).replace("$", r"\$")


def strategy_styles(strategies: list[str]) -> dict[str, tuple[tuple, str]]:
    """A stable (colour, marker) per strategy, shared by every figure."""
    cmap = matplotlib.colormaps["tab10"]
    ordered = ordered_strategies(strategies)
    return {s: (cmap(i % 10), MARKERS[i % len(MARKERS)]) for i, s in enumerate(ordered)}


def _grid(n_rows: int, n_cols: int, sharex: bool = False) -> tuple[Figure, list[list[Axes]]]:
    fig = Figure(figsize=(PANEL_SIZE[0] * n_cols, PANEL_SIZE[1] * n_rows + 0.6),
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=sharex)
    return fig, [list(row) for row in axes]


def _save(fig: Figure, out_dir: Path, name: str, caption: str) -> FigureFile:
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    fig.savefig(png, dpi=110, bbox_inches="tight", metadata={"Software": None})
    with matplotlib.rc_context({"svg.hashsalt": "ftbench"}):
        fig.savefig(svg, bbox_inches="tight", metadata={"Date": None})
    return FigureFile(name, caption, png, svg)


def _panel_title(dataset: str, backbone: str, show_backbone: bool) -> str:
    return _text(f"{dataset} / {backbone}" if show_backbone else dataset)


def _legend(fig: Figure, axes: list[list[Axes]]) -> None:
    handles, labels = {}, []
    for ax in (a for row in axes for a in row):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    if labels:
        fig.legend([handles[lb] for lb in labels], labels, loc="outside lower center",
                   ncol=min(len(labels), 4), frameon=False)


def _empty(out_dir: Path, name: str, caption: str, message: str) -> FigureFile:
    fig, axes = _grid(1, 1)
    axes[0][0].text(0.5, 0.5, message, ha="center", va="center")
    axes[0][0].set_axis_off()
    return _save(fig, out_dir, name, caption)


def accuracy_figure(acc: pd.DataFrame, out_dir: Path, n_cols: int = 3) -> FigureFile:
    """Test accuracy against n_train per strategy, one panel per dataset (and backbone).

    Args:
        acc: Output of :func:`report.plot_data.accuracy_by_size`.
        out_dir: Folder for the PNG and SVG.
        n_cols: Panels per row.

    Returns:
        The written figure.
    """
    name = "accuracy_by_size"
    caption = ("Test accuracy against training-set size (log scale): mean over seeds, "
               "band = 95% t-interval.")
    if acc.empty:
        return _empty(out_dir, name, caption, "no final results")
    panels = list(acc.groupby(["dataset", "backbone"], sort=True))
    show_backbone = acc["backbone"].nunique() > 1
    styles = strategy_styles(acc["strategy"].unique().tolist())
    n_rows = -(-len(panels) // n_cols)
    fig, axes = _grid(n_rows, min(n_cols, len(panels)))
    flat = [a for row in axes for a in row]
    for ax, ((dataset, backbone), panel) in zip(flat, panels):
        for strategy in ordered_strategies(panel["strategy"].unique().tolist()):
            line = panel[panel["strategy"] == strategy].sort_values("n_train")
            color, marker = styles[strategy]
            error = [line["mean"] - line["ci_low"], line["ci_high"] - line["mean"]]
            ax.errorbar(line["n_train"], line["mean"], yerr=error, marker=marker, color=color,
                        capsize=3, label=strategy)
            ax.fill_between(line["n_train"], line["ci_low"], line["ci_high"],
                            color=color, alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        sizes = sorted(panel["n_train"].unique())
        ax.set_xticks(sizes, [str(int(n)) for n in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(_panel_title(dataset, backbone, show_backbone))
        ax.set_xlabel("n_train")
        ax.set_ylabel("test accuracy")
        ax.grid(True, which="both", alpha=0.3)
    for ax in flat[len(panels):]:
        ax.set_axis_off()
    _legend(fig, axes)
    return _save(fig, out_dir, name, caption)


def _lr_panel(ax: Axes, points: pd.DataFrame, band: pd.DataFrame, styles: dict) -> None:
    for row in band.itertuples():
        ax.axvspan(row.lr_low, row.lr_high, color="0.6", alpha=0.25, label="guideline LR range")
    for strategy in ordered_strategies(points["strategy"].unique().tolist()):
        mine = points[points["strategy"] == strategy]
        color, marker = styles[strategy]
        ax.scatter(mine["lr"], mine["val_acc"], s=22, color=color, marker=marker, alpha=0.75,
                   label=strategy)
    if points.empty:
        ax.text(0.5, 0.5, "no complete trials", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("val accuracy")
    ax.grid(True, which="both", alpha=0.3)


def lr_figure(points: pd.DataFrame, bands: pd.DataFrame, out_dir: Path) -> FigureFile:
    """Validation accuracy against LR, a row per dataset (and backbone), a column per regime.

    Args:
        points: Output of :func:`report.plot_data.lr_points`.
        bands: Output of :func:`report.plot_data.guideline_bands`.
        out_dir: Folder for the PNG and SVG.

    Returns:
        The written figure.
    """
    name = "val_acc_vs_lr"
    caption = ("Validation accuracy against learning rate (log scale) for every COMPLETE "
               "trial; shaded: the guideline's LR range for the regime.")
    if points.empty:
        return _empty(out_dir, name, caption, "no complete trials")
    rows = list(points.groupby(["dataset", "backbone"], sort=True))
    regimes = ordered_regimes(points["regime"])
    show_backbone = points["backbone"].nunique() > 1
    styles = strategy_styles(points["strategy"].unique().tolist())
    fig, axes = _grid(len(rows), len(regimes), sharex=True)
    for ax_row, ((dataset, backbone), data) in zip(axes, rows):
        for ax, regime in zip(ax_row, regimes):
            _lr_panel(ax, data[data["regime"] == regime], bands[bands["regime"] == regime],
                      styles)
            title = _panel_title(dataset, backbone, show_backbone)
            ax.set_title(f"{title}, {_text(regime)}")
    _legend(fig, axes)
    return _save(fig, out_dir, name, caption)
