"""Rendering of the report's figures from small plot tables: files written, no layout warning."""

import json
import warnings

import pandas as pd
import pytest

from report import plot_data
from report.figures import cost_figure, curves_figure, gain_figure
from tests.report.test_report_plot_data import _curve_trials, _epochs, _final_costs, _gain_trials


def _two_datasets(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame again under a second dataset and backbone whose names need escaping."""
    return pd.concat([frame, frame.assign(dataset="$x<b>", backbone="b2")], ignore_index=True)


@pytest.mark.parametrize("draw", [
    lambda out: gain_figure(plot_data.tuning_gain(_two_datasets(_gain_trials())), out),
    lambda out: cost_figure(plot_data.cost_points(_two_datasets(_final_costs())), out),
    lambda out: curves_figure(plot_data.best_curves(_two_datasets(_curve_trials()),
                                                    _two_datasets(_epochs())), out, "none"),
    lambda out: curves_figure(plot_data.best_curves(_curve_trials(), None), out,
                              "no epochs.csv"),
], ids=["gain", "cost", "curves", "curves-empty"])
def test_figures_render_without_warnings(tmp_path, draw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. constrained layout collapsing
        figure = draw(tmp_path)
    assert figure.png.read_bytes().startswith(b"\x89PNG")
    assert figure.svg.stat().st_size > 0 and figure.caption


def test_without_two_tuned_parameters_section_9_is_a_line_not_an_empty_figure(tmp_path):
    from report.render import Image, Paragraph
    from report.sections import importance_blocks

    trials = pd.DataFrame([
        {"dataset": "d", "backbone": "b", "n_train": 50, "regime": "<1k",
         "strategy": "full_finetune", "trial": t, "status": "COMPLETE", "lr": 10.0 ** -t,
         "val_acc": 0.5 + t / 100, "params": json.dumps({"lr": 10.0 ** -t})}
        for t in range(1, 7)])
    blocks = importance_blocks(trials, tmp_path)
    assert not any(isinstance(b, Image) for b in blocks)
    assert any(isinstance(b, Paragraph) and "No cell tuned two or more" in b.text
               for b in blocks)
    assert (tmp_path / "param_importance.csv").is_file()


def test_groups_of_panels_wrap_into_balanced_rows_of_at_most_three():
    from report.figure_base import MAX_COLS, group_grid

    _fig, axes, groups = group_grid([4, 3, 1, 5])
    assert (len(axes), len(axes[0])) == (2 + 1 + 1 + 2, MAX_COLS)
    assert [len(g) for g in groups] == [4, 3, 1, 5]
    assert groups[0] == [axes[0][0], axes[0][1], axes[1][0], axes[1][1]]  # 2 rows of 2
    assert groups[1] == axes[2] and groups[2] == [axes[3][0]]
    assert groups[3] == axes[4] + axes[5][:2]  # 5 panels: 3 + 2
    shown = {id(ax) for g in groups for ax in g}
    assert all(ax.axison == (id(ax) in shown) for row in axes for ax in row)


def test_a_cell_grid_of_four_sizes_is_no_wider_than_three_panels(tmp_path):
    from PIL import Image

    from report.figure_base import MAX_COLS, PANEL_SIZE

    costs = _final_costs()
    four = pd.concat([costs, costs.assign(n_train=1000), costs.assign(n_train=5000)],
                     ignore_index=True)
    assert four["n_train"].nunique() == 4
    figure = cost_figure(plot_data.cost_points(four), tmp_path)
    with Image.open(figure.png) as png:
        assert png.width <= MAX_COLS * PANEL_SIZE[0] * 110 + 50  # dpi 110, tight margins
