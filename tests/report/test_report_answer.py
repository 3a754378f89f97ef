"""The report's opening answer: the guideline table as measured, the verdict figure, and the
warning on a report of an unfinished run."""

from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from report import build_report
from report.answer import agreement, measured_table
from report.figure_verdicts import PANELS, VERDICTS, _panel, verdict_figure
from report.guideline import AGREES, DISAGREES, INCONCLUSIVE, NOT_TESTED


def _cell(dataset, regime, best, verdicts, backbone="lite0", lr=(3e-4, 1e-3), epoch=4.0):
    guide = {"<1k": "feature_extraction", "1k-10k": "partial_freeze", ">10k": "full_finetune"}
    return {"dataset": dataset, "backbone": backbone, "regime": regime,
            "guideline_strategy": guide[regime], "best_strategy": best, "best_mean": 0.9,
            "guideline_mean": 0.8, "p_value": 0.01, "n_paired": 3, "diff_mean": -0.1,
            "diff_low": -0.15, "diff_high": -0.05, "strategy_verdict": verdicts[0],
            "good_lr_min": lr[0], "good_lr_max": lr[1], "lr_verdict": verdicts[1],
            "mean_best_epoch": epoch, "max_epochs": 4, "epochs_verdict": verdicts[2]}


TABLE = pd.DataFrame([
    _cell("cifar5", ">10k", "full_finetune", (AGREES, AGREES, NOT_TESTED)),
    _cell("cifar5", "<1k", "partial_freeze", (DISAGREES, AGREES, DISAGREES), lr=(2e-3, 2e-3)),
    _cell("fashion", "<1k", "partial_freeze", (DISAGREES, DISAGREES, DISAGREES),
          lr=(math.nan, math.nan), epoch=math.nan),
    _cell("fashion", ">10k", "from_scratch", (INCONCLUSIVE, DISAGREES, NOT_TESTED)),
])


def test_one_row_per_regime_in_the_guideline_s_order_naming_each_dataset():
    answer = measured_table(TABLE)
    assert answer["regime"].tolist() == ["<1k", ">10k"]
    small, large = answer.iloc[0], answer.iloc[1]
    assert small["guideline strategy"] == "feature_extraction"
    assert small["measured best strategy"] == "partial_freeze (cifar5, fashion)"
    assert small["strategy agrees"] == "0 of 2 (2 disagrees)"
    assert small["measured good LR"] == "2e-3 (cifar5); none (fashion)"
    assert small["epochs to best"] == "4.0 of 4 (cifar5); none (fashion)"
    assert large["measured best strategy"] == "full_finetune (cifar5); from_scratch (fashion)"
    assert large["strategy agrees"] == "1 of 2 (1 inconclusive)"
    assert large["LR agrees"] == "1 of 2 (1 disagrees)"
    assert large["epochs agree"] == "0 of 2 (2 not tested)"


def test_cells_name_the_backbone_when_there_are_several():
    table = pd.concat([TABLE, pd.DataFrame([_cell("cifar5", "<1k", "lp_ft",
                                                  (AGREES,) * 3, backbone="vit")])])
    answer = measured_table(table)
    assert answer.iloc[0]["measured best strategy"] == (
        "partial_freeze (cifar5/lite0, fashion/lite0); lp_ft (cifar5/vit)")


def test_agreement_counts_every_verdict_and_an_empty_table_has_no_rows():
    verdicts = pd.Series([AGREES, NOT_TESTED, AGREES, DISAGREES])
    assert agreement(verdicts) == "2 of 4 (1 not tested, 1 disagrees)"
    assert agreement(pd.Series([AGREES])) == "1 of 1"
    assert measured_table(TABLE.iloc[:0]).empty


@pytest.mark.parametrize("panel", PANELS)
def test_each_square_has_its_verdict_s_colour_and_the_measurement(panel):
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    _panel(ax, TABLE, panel, ["cifar5", "fashion"], ["<1k", ">10k"], False)
    codes = ax.images[0].get_array()
    column = panel[0]
    expected = [[VERDICTS.index(TABLE[(TABLE.regime == r) & (TABLE.dataset == d)][column].iloc[0])
                 for d in ("cifar5", "fashion")] for r in ("<1k", ">10k")]
    assert codes.tolist() == expected
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 4
    if column == "strategy_verdict":
        assert "partial_freeze 0.900\nguideline's 0.800\n-10.0 [-15.0, -5.0] pts" in texts
    if column == "lr_verdict":
        assert "2e-3" in texts and "none" in texts
    assert next(t.get_text() for t in ax.get_yticklabels()).startswith("<1k\n")


def test_a_regime_a_dataset_lacks_is_marked_not_coloured(tmp_path):
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    _panel(ax, TABLE.iloc[:3], PANELS[0], ["cifar5", "fashion"], ["<1k", ">10k"], False)
    assert ax.images[0].get_array().mask.tolist() == [[False, False], [False, True]]
    assert "no size\nin this regime" in [t.get_text() for t in ax.texts]
    written = verdict_figure(TABLE, tmp_path)
    assert written.png.read_bytes().startswith(b"\x89PNG") and written.svg.stat().st_size > 0
    assert verdict_figure(TABLE.iloc[:0], tmp_path).png.is_file()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from tests.report.test_report_build import (
        _confusion_rows,
        _epoch_rows,
        _final_rows,
        _trial_rows,
    )

    path = tmp_path_factory.mktemp("answer")
    for name, rows in (("trials", _trial_rows()), ("epochs", _epoch_rows()),
                       ("final", _final_rows()), ("confusion", _confusion_rows())):
        pd.DataFrame(rows).to_csv(path / f"{name}.csv", index=False)
    return path, build_report(path)


def test_the_report_opens_with_the_answer_and_its_figure(built):
    path, markdown = built
    text = markdown.read_text()
    answer_at = text.index("## The answer: the guideline table as measured")
    assert answer_at < text.index("## 1. Guideline table vs measurement")
    assert text.index("figures/verdicts.png") < text.index("## 1. Guideline")
    answer = pd.read_csv(path / "report" / "answer.csv")
    assert answer["regime"].tolist() == ["<1k", "1k-10k"]
    assert "INCOMPLETE RUN" not in text


def _plan(cells):
    return {"suite": "quickstart", "trials_per_cell": 4, "seeds": [0, 1, 2],
            "started": "2026-11-30T07:00:00+00:00",
            "cells": [{"key": f"resnet18/{d}/n{n}/{s}", "backbone": "resnet18", "dataset": d,
                       "n_train": n, "size": str(n), "strategy": s, "max_epochs": 8}
                      for d, n, s in cells]}


def test_a_report_of_an_unfinished_run_says_so_before_anything_else(built, tmp_path):
    path, _ = built
    for name in ("trials.csv", "final.csv"):
        shutil.copy(path / name, tmp_path / name)
    done = ("cifar-mini", 50, "feature_extraction")
    (tmp_path / "plan.json").write_text(json.dumps(_plan([done, ("cifar-mini", 50, "lora")])))
    text = build_report(tmp_path).read_text()
    warning = "INCOMPLETE RUN: 1 of 2 cells are done (5 of 8 trials, 3 of 6 final seeds)"
    assert warning in text and text.index(warning) < text.index("## The answer")
    (tmp_path / "plan.json").write_text(json.dumps(_plan([done])))
    assert "INCOMPLETE RUN" not in build_report(tmp_path).read_text()
