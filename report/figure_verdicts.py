"""The one-glance figure of the verdicts: regime x dataset, one panel each for strategy, LR
and epochs, coloured by verdict and labelled with what was measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from benchmarks.results.guideline_table import format_lr, guideline_for, regime_rank
from report.answer import cell_label
from report.figure_base import FigureFile, empty_figure, grid, plot_text, save
from report.guideline import AGREES, DISAGREES, INCONCLUSIVE, NOT_TESTED

VERDICT_COLOURS = {AGREES: "#7fbf7b", DISAGREES: "#e08080", INCONCLUSIVE: "#d9d9d9",
                   NOT_TESTED: "#f4f4f4"}
"""Fill of a verdict's square (colour-blind safe pair green/red, with text on every square)."""
VERDICTS = tuple(VERDICT_COLOURS)
PANELS = (("strategy_verdict", "strategy", "strategy"),
          ("lr_verdict", "learning rate", "lr_text"),
          ("epochs_verdict", "epochs to best", "epochs_text"))
"""(verdict column, panel title, the
:class:`~benchmarks.results.guideline_table.Guideline` attribute shown beside each regime)."""
CAPTION = ("Verdicts per regime (rows) and dataset (columns): green agrees with the guideline, "
           "red disagrees, grey inconclusive, light grey not tested (the epoch budget is "
           "below the guideline's). Each square names what was measured: the best strategy on "
           "validation and its mean test accuracy (with the guideline strategy's and their "
           "paired difference in points, 95% interval, where it is another), the good LR "
           "range, the mean epoch of best validation "
           "accuracy of the epoch budget; the row labels give the guideline's value.")


def verdict_figure(table: pd.DataFrame, out_dir: Path) -> FigureFile:
    """Draw ``verdicts.png``/``.svg`` from :func:`report.guideline.compare_to_guideline`'s
    table."""
    name = "verdicts"
    if table.empty:
        return empty_figure(out_dir, name, CAPTION, "no regime of the guideline was measured")
    show_backbone = table["backbone"].nunique() > 1
    cells = list(dict.fromkeys(cell_label(r, show_backbone) for r in table.itertuples()))
    regimes = sorted(set(table["regime"]), key=regime_rank)
    fig, axes = grid(1, len(PANELS))
    fig.set_size_inches(len(PANELS) * (1.2 + 1.5 * len(cells)), 1.2 + 0.75 * len(regimes))
    for ax, panel in zip(axes[0], PANELS):
        _panel(ax, table, panel, cells, regimes, show_backbone)
    handles = [Patch(facecolor=VERDICT_COLOURS[v], edgecolor="#555555", label=v)
               for v in VERDICTS]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(VERDICTS), frameon=False)
    return save(fig, out_dir, name, CAPTION)


def _panel(ax: Axes, table: pd.DataFrame, panel: tuple[str, str, str], cells: list[str],
           regimes: list[str], show_backbone: bool) -> None:
    column, title, guide_attr = panel
    codes = np.full((len(regimes), len(cells)), np.nan)
    texts = {}
    for row in table.itertuples():
        at = regimes.index(row.regime), cells.index(cell_label(row, show_backbone))
        codes[at] = VERDICTS.index(getattr(row, column))
        texts[at] = _measured(row, column)
    for i, j in np.ndindex(codes.shape):
        text = texts.get((i, j))
        ax.text(j, i, plot_text(text) if text else "no size\nin this regime", ha="center",
                va="center", fontsize=8 if text else 7, color="black" if text else "#888888")
    cmap = ListedColormap([VERDICT_COLOURS[v] for v in VERDICTS]).with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(codes), cmap=cmap, vmin=-0.5, vmax=len(VERDICTS) - 0.5,
              aspect="auto")
    ax.set_xticks(range(len(cells)), [plot_text(c) for c in cells], fontsize=8)
    ax.set_yticks(range(len(regimes)),
                  [f"{r}\n{_guideline_value(r, guide_attr)}" for r in regimes], fontsize=8)
    ax.set_xticks(np.arange(len(cells) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(regimes) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=3)
    ax.tick_params(which="both", length=0)
    ax.set_title(title, fontsize=10)


def _guideline_value(regime: str, attr: str) -> str:
    guide = guideline_for(regime)
    return plot_text(getattr(guide, attr)) if guide else ""


def _measured(row: object, column: str) -> str:
    """What a square says: the measurement its verdict is about."""
    if column == "strategy_verdict":
        best = f"{row.best_strategy} {row.best_mean:.3f}"
        if row.best_strategy == row.guideline_strategy or np.isnan(row.guideline_mean):
            return best
        if row.n_paired < 2:
            return f"{best}\nguideline's {row.guideline_mean:.3f}"
        return (f"{best}\nguideline's {row.guideline_mean:.3f}\n"
                f"{100 * row.diff_mean:+.1f} [{100 * row.diff_low:+.1f}, "
                f"{100 * row.diff_high:+.1f}] pts")
    if column == "lr_verdict":
        low, high = row.good_lr_min, row.good_lr_max
        if np.isnan(low):
            return "none"
        return format_lr(low) if low == high else f"{format_lr(low)}\n..{format_lr(high)}"
    if np.isnan(row.mean_best_epoch):
        return "none"
    return f"{row.mean_best_epoch:.1f} of {row.max_epochs}"
