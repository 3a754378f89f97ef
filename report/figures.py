"""Matplotlib rendering (Agg) of the report's figures from precomputed plot tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import LogLocator, NullFormatter

from report.figure_base import (
    FigureFile,
    empty_figure,
    flat,
    grid,
    group_grid,
    legend,
    panel_grid,
    panel_title,
    plot_text,
    save,
    strategy_styles,
)
from report.plot_data import ordered_regimes, ordered_strategies

COSTS = (("train_time_s", "pareto_time", "training time (s)"),
         ("trainable_params", "pareto_params", "trainable parameters"))
"""(cost column, its Pareto flag, axis label) of the two accuracy-against-cost panels."""


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
               "band = 95% t-interval, clipped to [0, 1].")
    if acc.empty:
        return empty_figure(out_dir, name, caption, "no final results")
    panels = list(acc.groupby(["dataset", "backbone"], sort=True))
    show_backbone = acc["backbone"].nunique() > 1
    styles = strategy_styles(acc["strategy"].unique().tolist())
    fig, axes = panel_grid(len(panels), n_cols)
    for ax, ((dataset, backbone), panel) in zip(flat(axes), panels):
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
        ax.set_title(panel_title(dataset, backbone, show_backbone))
        ax.set_xlabel("n_train")
        ax.set_ylabel("test accuracy")
        ax.grid(True, which="both", alpha=0.3)
    legend(fig, axes)
    return save(fig, out_dir, name, caption)


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
        return empty_figure(out_dir, name, caption, "no complete trials")
    rows = list(points.groupby(["dataset", "backbone"], sort=True))
    regimes = ordered_regimes(points["regime"])
    show_backbone = points["backbone"].nunique() > 1
    styles = strategy_styles(points["strategy"].unique().tolist())
    fig, axes = grid(len(rows), len(regimes), sharex=True)
    for ax_row, ((dataset, backbone), data) in zip(axes, rows):
        for ax, regime in zip(ax_row, regimes):
            _lr_panel(ax, data[data["regime"] == regime], bands[bands["regime"] == regime],
                      styles)
            title = panel_title(dataset, backbone, show_backbone)
            ax.set_title(f"{title}, {plot_text(regime)}")
    legend(fig, axes)
    return save(fig, out_dir, name, caption)


def _gain_panel(ax: Axes, panel: pd.DataFrame, styles: dict) -> None:
    sizes = sorted(panel["n_train"].unique())
    strategies = ordered_strategies(panel["strategy"].unique().tolist())
    width = 0.8 / len(strategies)
    for k, strategy in enumerate(strategies):
        gain = panel[panel["strategy"] == strategy].set_index("n_train")["gain"]
        x = np.arange(len(sizes)) + (k - (len(strategies) - 1) / 2) * width
        color = styles[strategy][0]
        ax.bar(x, gain.reindex(sizes).fillna(0).to_numpy(float), width, color=color,
               label=strategy)
        missing = np.isin(sizes, gain.index[gain.isna()])  # run, but no gain measured
        if missing.any():  # an empty unclipped line would break the layout
            ax.plot(x[missing], np.zeros(missing.sum()), "x", color=color, markersize=7,
                    clip_on=False)
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xticks(range(len(sizes)), [str(int(n)) for n in sizes])
    ax.set_xlabel("n_train")
    ax.set_ylabel("val accuracy: best - default")
    ax.grid(True, axis="y", alpha=0.3)


def gain_figure(gain: pd.DataFrame, out_dir: Path, n_cols: int = 3) -> FigureFile:
    """Validation-accuracy gain of tuning per strategy, bars grouped by n_train.

    Args:
        gain: Output of :func:`report.plot_data.tuning_gain`.
        out_dir: Folder for the PNG and SVG.
        n_cols: Panels per row (one panel per dataset and backbone).

    Returns:
        The written figure.
    """
    name = "tuning_gain"
    caption = ("Gain of tuning in validation accuracy (tuning saw validation data only): best "
               "COMPLETE trial minus the guideline default trial; x: no gain (the default "
               "trial failed or no trial completed).")
    if gain.empty:
        return empty_figure(out_dir, name, caption, "no trials")
    panels = list(gain.groupby(["dataset", "backbone"], sort=True))
    show_backbone = gain["backbone"].nunique() > 1
    styles = strategy_styles(gain["strategy"].unique().tolist())
    fig, axes = panel_grid(len(panels), n_cols)
    for ax, ((dataset, backbone), panel) in zip(flat(axes), panels):
        _gain_panel(ax, panel, styles)
        ax.set_title(panel_title(dataset, backbone, show_backbone))
    legend(fig, axes)
    return save(fig, out_dir, name, caption)


def _cost_panel(ax: Axes, data: pd.DataFrame, cost: str, flag: str, styles: dict) -> None:
    """One cell's strategies (one n_train) against one cost, with its Pareto front."""
    data = data[data[cost] > 0]  # a log axis shows no zero cost
    for strategy in ordered_strategies(data["strategy"].unique().tolist()):
        mine = data[data["strategy"] == strategy]
        color, marker = styles[strategy]
        ax.scatter(mine[cost], mine["test_acc"], s=36, marker=marker,
                   facecolors=[color if f else "none" for f in mine[flag]], edgecolors=[color])
        ax.scatter([], [], s=36, marker=marker, color=color, label=strategy)  # legend: filled
    front = data[data[flag]].sort_values([cost, "test_acc"])
    ax.step(front[cost], front["test_acc"], where="post", color="0.3", linewidth=1,
            label="Pareto front")
    if data.empty:
        ax.text(0.5, 0.5, "no cost recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(numticks=4))  # few labels: they never overlap
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("test accuracy")
    ax.grid(True, which="both", alpha=0.3)


def cost_figure(points: pd.DataFrame, out_dir: Path) -> FigureFile:
    """Test accuracy against training time and against trainable parameters, Pareto fronts.

    Args:
        points: Output of :func:`report.plot_data.cost_points`.
        out_dir: Folder for the PNG and SVG.

    Returns:
        The written figure: a panel per cell (dataset, backbone, n_train) and cost, so that
        every panel holds the strategies of one cell; each dataset and cost starts a row
        (:func:`report.figure_base.group_grid`).
    """
    name = "accuracy_vs_cost"
    caption = ("Mean test accuracy over seeds against mean training time and against trainable "
               "parameters (log scales), a panel per cell (dataset, n_train) and cost; filled: "
               "Pareto-optimal within the cell, joined by the step line; hollow: dominated.")
    if points.empty:
        return empty_figure(out_dir, name, caption, "no final results")
    groups = [(key, cost, list(data.groupby("n_train", sort=True)))
              for key, data in points.groupby(["dataset", "backbone"], sort=True)
              for cost in COSTS]
    show_backbone = points["backbone"].nunique() > 1
    styles = strategy_styles(points["strategy"].unique().tolist())
    fig, axes, panels = group_grid([len(cells) for _, _, cells in groups])
    for ((dataset, backbone), (cost, flag, label), cells), group in zip(groups, panels):
        for ax, (n_train, cell) in zip(group, cells):
            _cost_panel(ax, cell, cost, flag, styles)
            ax.set_xlabel(label)
            ax.set_title(f"{panel_title(dataset, backbone, show_backbone)}, n_train={n_train}")
    legend(fig, axes)
    return save(fig, out_dir, name, caption)


def curves_figure(curves: pd.DataFrame, out_dir: Path, empty_message: str) -> FigureFile:
    """Validation accuracy per epoch of each strategy's best trial, a panel per cell.

    Args:
        curves: Output of :func:`report.plot_data.best_curves`.
        out_dir: Folder for the PNG and SVG.
        empty_message: What the figure says when ``curves`` is empty.

    Returns:
        The written figure: a panel per n_train; each dataset (and backbone) starts a row
        (:func:`report.figure_base.group_grid`).
    """
    name = "best_curves"
    caption = ("Validation accuracy after each epoch of the best COMPLETE trial (highest "
               "val_acc) of each strategy and cell.")
    if curves.empty:
        return empty_figure(out_dir, name, caption, empty_message)
    rows = [(key, list(data.groupby("n_train", sort=True)))
            for key, data in curves.groupby(["dataset", "backbone"], sort=True)]
    show_backbone = curves["backbone"].nunique() > 1
    styles = strategy_styles(curves["strategy"].unique().tolist())
    fig, axes, panels = group_grid([len(cells) for _, cells in rows])
    for group, ((dataset, backbone), cells) in zip(panels, rows):
        for ax, (n_train, cell) in zip(group, cells):
            for strategy in ordered_strategies(cell["strategy"].unique().tolist()):
                line = cell[cell["strategy"] == strategy].sort_values("epoch")
                color, marker = styles[strategy]
                ax.plot(line["epoch"], line["val_acc"], color=color, marker=marker,
                        markersize=3, label=strategy)
            ax.set_title(f"{panel_title(dataset, backbone, show_backbone)}, n_train={n_train}")
            ax.set_xlabel("epoch")
            ax.set_ylabel("val accuracy")
            ax.grid(True, alpha=0.3)
    legend(fig, axes)
    return save(fig, out_dir, name, caption)
