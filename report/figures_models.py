"""Figures about the tuned models: hyperparameter importances and confusion matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from report.confusion import GRID_KEYS, matrix
from report.figure_base import (
    FigureFile,
    empty_figure,
    flat,
    panel_grid,
    panel_title,
    plot_text,
    save,
    strategy_styles,
)
from report.plot_data import ordered_strategies

NAMED_TICKS_UP_TO = 20
"""Confusion matrices with more classes than this show no class names on their axes."""
ANNOTATE_UP_TO = 6
"""Confusion matrices with at most this many classes print each rate in its square."""
NAME_CHARS = 16
"""Class names on the true-class axis are cut to this many characters."""


def _importance_panel(ax: Axes, rows: pd.DataFrame, color: tuple) -> None:
    means = rows.groupby("param")["importance"].mean().sort_values(ascending=False)
    x = np.arange(len(means))
    ax.bar(x, means.to_numpy(), color=color, alpha=0.6)
    for i, param in enumerate(means.index):
        cells = rows.loc[rows["param"] == param, "importance"].to_numpy()
        ax.scatter(np.full(len(cells), i), cells, s=14, color="0.15", zorder=3)
    ax.set_xticks(x, [plot_text(p) for p in means.index], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fANOVA importance")
    ax.grid(True, axis="y", alpha=0.3)


def importance_strategies(importances: pd.DataFrame) -> list[str]:
    """The strategies with an importance panel: those that tuned two parameters or more."""
    if importances.empty:
        return []
    varied = importances.groupby("strategy")["param"].nunique()
    return [s for s in ordered_strategies(varied.index.tolist()) if varied[s] > 1]


def importance_figure(importances: pd.DataFrame, out_dir: Path, n_cols: int = 3) -> FigureFile:
    """Mean importance of each tuned parameter per strategy (bars) and each cell's (dots).

    Args:
        importances: Output of :func:`report.importance.param_importances`.
        out_dir: Folder for the PNG and SVG.
        n_cols: Panels per row.

    Returns:
        The written figure: a panel per strategy that tuned two parameters or more.
    """
    name = "param_importance"
    caption = ("Optuna fANOVA importance of each hyperparameter for validation accuracy: bar = "
               "mean over cells, dot = one cell; strategies that tuned only one parameter "
               "are left out (its importance is 1 by definition).")
    shown = importance_strategies(importances)
    if not shown:
        return empty_figure(out_dir, name, caption,
                            "no cell tuned two or more parameters in enough trials")
    styles = strategy_styles(importances["strategy"].unique().tolist())
    fig, axes = panel_grid(len(shown), n_cols)
    for ax, strategy in zip(flat(axes), shown):
        rows = importances[importances["strategy"] == strategy]
        _importance_panel(ax, rows, styles[strategy][0])
        n_cells = len(rows.drop_duplicates(["dataset", "backbone", "n_train"]))
        ax.set_title(f"{plot_text(strategy)} ({n_cells} cell{'s' if n_cells != 1 else ''})")
    return save(fig, out_dir, name, caption)


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _confusion_panel(ax: Axes, cell: pd.DataFrame) -> object:
    rates, names = matrix(cell)
    image = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    n = len(names)
    if n <= NAMED_TICKS_UP_TO:  # names once (true axis, numbered), numbers on the other
        labels = [plot_text(f"{i}: {_short(c)}") for i, c in enumerate(names)]
        ax.set_xticks(range(n), [str(i) for i in range(n)], fontsize=7)
        ax.set_yticks(range(n), labels, fontsize=7)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if n <= ANNOTATE_UP_TO:
        for (i, j), rate in np.ndenumerate(rates):
            ax.text(j, i, f"{rate:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if rate > 0.6 else "0.1")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return image


def confusion_figure(confusion: pd.DataFrame, out_dir: Path, empty_message: str,
                     n_cols: int = 3) -> FigureFile:
    """Row-normalised test confusion matrix of each cell's best strategy.

    Args:
        confusion: Output of :func:`report.confusion.best_confusion`.
        out_dir: Folder for the PNG and SVG.
        empty_message: What the figure says when ``confusion`` is empty.
        n_cols: Panels per row.

    Returns:
        The written figure: a panel per (dataset, backbone, n_train).
    """
    name = "confusion_best"
    caption = ("Test confusion matrix of each cell's best strategy (highest mean validation "
               "accuracy), counts summed over its seeds; each row (true class) sums to 1.")
    if confusion.empty:
        return empty_figure(out_dir, name, caption, empty_message)
    cells = list(confusion.groupby(GRID_KEYS, sort=True))
    show_backbone = confusion["backbone"].nunique() > 1
    fig, axes = panel_grid(len(cells), n_cols)
    image = None
    for ax, ((dataset, backbone, n_train), cell) in zip(flat(axes), cells):
        image = _confusion_panel(ax, cell)
        strategy = cell["strategy"].iloc[0]
        ax.set_title(f"{panel_title(dataset, backbone, show_backbone)}, n_train={n_train}\n"
                     f"{plot_text(strategy)}, {cell['n_seeds'].iloc[0]} seeds", fontsize=9)
    fig.colorbar(image, ax=flat(axes), shrink=0.6,
                 label="share of the true class")
    return save(fig, out_dir, name, caption)
