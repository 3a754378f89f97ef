"""Section 11: what each strategy does to the features, from the ``features/**/*.npz`` files
the first final seed of each cell saves (:mod:`benchmarks.driver.pictures`): a t-SNE
embedding of the test sample's pre-logit features, a panel per strategy, and Grad-CAM maps
of a few test images per strategy."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.manifold import TSNE

from report.figure_base import FigureFile, flat, grid, plot_text, save
from report.plot_data import ordered_strategies
from report.render import Block, Heading, Image, Paragraph

CAPTION_TSNE = ("t-SNE (scikit-learn, perplexity up to 30, PCA start, 500 iterations, seed "
                "0) of the pre-logit features of the same stratified test sample under each "
                "strategy's first final seed, at the dataset's largest training size; colour "
                "= true class. Tighter, separate clusters mean features the head can "
                "separate.")
CAPTION_CAM = ("Grad-CAM on the last stage for the same test images under each strategy's "
               "first final seed (the predicted class's evidence, red = most): where each "
               "strategy looks. The maps have the last stage's resolution, a CNN's input / 32 "
               "(2x2 at 64 px), so they are coarse at small inputs.")


def load_pictures(results_dir: Path) -> pd.DataFrame:
    """One row per saved cell: backbone, dataset, n_train, strategy and the arrays."""
    rows = []
    for path in sorted((results_dir / "features").glob("*/*/n*/*.npz")):
        backbone, dataset, size = path.parts[-4:-1]
        with np.load(path) as data:
            rows.append({"backbone": backbone, "dataset": dataset, "n_train": int(size[1:]),
                         "strategy": path.stem, **{k: data[k] for k in data.files}})
    return pd.DataFrame(rows)


def not_embeddable(features: np.ndarray) -> str:
    """Why ``features`` cannot be embedded ("" when they can): t-SNE's PCA start divides by
    the spread of the features, and scikit-learn's tree then crashes the process on what
    that gives for constant or non-finite features (a broken checkpoint's, say)."""
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3:
        return f"{len(x)} feature vectors, fewer than 3"
    if not np.isfinite(x).all():
        return "the features are not all finite (NaN or infinity)"
    if not (x.std(axis=0) > 0).any():
        return "every test image has the same features (a constant backbone output)"
    return ""


def embed(features: np.ndarray) -> np.ndarray:
    """A seeded 2-D t-SNE of ``features`` (check :func:`not_embeddable` first)."""
    perplexity = float(min(30, max(2, len(features) // 4)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0,
                max_iter=500).fit_transform(features.astype(np.float32))


def tsne_figure(cells: pd.DataFrame, out_dir: Path, name: str) -> FigureFile:
    """Rows: training sizes; columns: strategies; one backbone and dataset."""
    sizes = sorted(cells["n_train"].unique())
    strategies = ordered_strategies(cells["strategy"].unique().tolist())
    fig, axes = grid(len(sizes), len(strategies))
    fig.set_size_inches(2.2 * len(strategies) + 0.5, 2.2 * len(sizes) + 0.6)
    for row, n_train in zip(axes, sizes):
        for ax, strategy in zip(row, strategies):
            ax.set_xticks([])
            ax.set_yticks([])
            found = cells[(cells["n_train"] == n_train) & (cells["strategy"] == strategy)]
            ax.set_title(plot_text(f"{strategy}\nn_train={n_train}"), fontsize=8)
            if found.empty:
                ax.text(0.5, 0.5, "not saved", ha="center", va="center", fontsize=8,
                        transform=ax.transAxes)
                continue
            cell = found.iloc[0]
            why = not_embeddable(cell["features"])
            if why:
                ax.text(0.5, 0.5, plot_text(f"not drawn: {why}"), ha="center", va="center",
                        fontsize=7, wrap=True, transform=ax.transAxes)
                continue
            points = embed(cell["features"])
            ax.scatter(points[:, 0], points[:, 1], c=cell["labels"], cmap="tab10", s=6,
                       vmin=0, vmax=9)
    return save(fig, out_dir, name, CAPTION_TSNE)


def cam_figure(cells: pd.DataFrame, out_dir: Path, name: str) -> FigureFile:
    """Rows: the test images; columns: strategies (one backbone, dataset and size)."""
    strategies = ordered_strategies(cells["strategy"].unique().tolist())
    n_images = max(len(c) for c in cells["cam"])
    fig, axes = grid(n_images, len(strategies))
    fig.set_size_inches(1.8 * len(strategies) + 0.5, 1.8 * n_images + 0.6)
    for col, strategy in enumerate(strategies):
        cell = cells[cells["strategy"] == strategy].iloc[0]
        for row in range(n_images):
            ax = axes[row][col]
            ax.set_axis_off()
            if row >= len(cell["cam"]):
                continue
            ax.imshow(np.transpose(cell["cam_images"][row], (1, 2, 0)))
            ax.imshow(cell["cam"][row].astype(np.float32), cmap="jet", alpha=0.45, vmin=0,
                      vmax=1)
            if row == 0:
                ax.set_title(plot_text(strategy), fontsize=8)
    for ax in flat(axes):
        ax.set_axis_off()
    return save(fig, out_dir, name, CAPTION_CAM)


def picture_blocks(results_dir: Path, out: Path) -> list[Block]:
    """Section 11: per backbone and dataset, at its largest training size (the t-SNE fits
    cost seconds each), a t-SNE figure and a Grad-CAM figure; a line where no cell saved
    its pictures."""
    blocks: list[Block] = [Heading("11. What the strategies do to the features")]
    cells = load_pictures(results_dir)
    if cells.empty:
        return blocks + [Paragraph(
            "No features were saved in this results folder (its final seeds ran before "
            "ftbench saved them): no embedding or Grad-CAM map to show.")]
    for (backbone, dataset), group in cells.groupby(["backbone", "dataset"], sort=True):
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{backbone}_{dataset}")
        largest = group[group["n_train"] == group["n_train"].max()]
        blocks += [Heading(f"{dataset} ({backbone})", 3),
                   Image(tsne_figure(largest, out / "figures", f"tsne_{stem}")),
                   Image(cam_figure(largest, out / "figures", f"gradcam_{stem}"))]
    return blocks
