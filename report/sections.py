"""Report sections 4-10: each turns result rows into blocks, writing its CSV and figure."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

from benchmarks.results.guideline_table import SOURCE_SIMILARITY_TABLE
from benchmarks.results.stats import PAIRED_TEST_NAME
from report import plot_data
from report.confusion import best_confusion
from report.figure_base import FigureFile
from report.figures import cost_figure, curves_figure, gain_figure
from report.figures_models import confusion_figure, importance_figure, importance_strategies
from report.importance import MIN_TRIALS, param_importances
from report.render import Block, Heading, Image, Paragraph, Table
from report.timing import apply_timing_caveats, caveat_text


def trial_blocks(trials: pd.DataFrame) -> list[Block]:
    problems = plot_data.trial_problems(trials)
    blocks: list[Block] = [
        Heading("4. Trials"),
        Paragraph("Trials per strategy and status (all datasets, backbones and sizes)."),
        Table(plot_data.trial_status_counts(trials)),
        Heading("Failed and skipped trials", 3),
    ]
    if problems.empty:
        return blocks + [Paragraph("No trial failed or was skipped.")]
    return blocks + [Table(problems)]


def similarity_blocks(table: pd.DataFrame, margin: float) -> list[Block]:
    shown = table.assign(
        pretrained=[f"{s} {m:.3f}" for s, m in zip(table.best_pretrained,
                                                   table.best_pretrained_mean)],
        from_scratch=table.scratch_mean.map(lambda m: f"{m:.3f}"),
        tutorials_advice=[f"{a} ({s})" if a else "-" for a, s in zip(table.advice,
                                                                    table.advice_strategy)],
    )[["dataset", "family", "n_train", "amount", "pretrained", "from_scratch",
       "negative_transfer", "tutorials_advice", "best_strategy", "advice_verdict"]]
    return [
        Heading("5. Data size x domain similarity, and negative transfer"),
        Paragraph(
            "The tutorials' second claim (source below): with little data, similar to the "
            "pretraining data, tune only the last layers; dissimilar, freeze the first layers "
            "and train the rest; with much data, similar, fine-tune the whole model; "
            "dissimilar, fine-tuning may not help and training from scratch is worth a try. "
            "Per cell: little data is the <1k regime, much data >10k; family near/far is the "
            "target's relation to the pretraining data. The advice verdict and the negative-"
            f"transfer flag follow section 1's rule (margin {margin * 100:g} points; "
            f"{PAIRED_TEST_NAME} p, Holm-adjusted over the table, in similarity_table.csv): "
            "negative transfer is yes when from_scratch is worse than the best pretrained "
            "strategy (chosen on validation) by less than the margin, with 95% confidence, no "
            "when pretraining helps by more than the margin, inconclusive otherwise."),
        Table(shown),
        Paragraph(SOURCE_SIMILARITY_TABLE),
    ]


def gain_blocks(trials: pd.DataFrame, out: Path) -> list[Block]:
    return _figure_section(
        "6. Gain of tuning over the guideline default", plot_data.tuning_gain(trials),
        "tuning_gain.csv", out, gain_figure,
        "Per cell, the validation accuracy of the best COMPLETE trial minus that of the "
        "guideline default trial (is_default: trial 0, or its retry after an "
        "interruption; its val_acc counts when it ended COMPLETE or PRUNED, up to the "
        "pruning). Both are validation accuracies: tuning chose on the validation split, "
        "so the gain is optimistic and no test number is involved. No gain (NaN) where "
        "the default failed or was skipped, or no trial completed (tuning_gain.csv).")


def cost_blocks(final: pd.DataFrame, out: Path, caveats: pd.DataFrame | None) -> list[Block]:
    """Section 7; ``caveats`` (:func:`report.timing.read_timing_caveats`) correct paused
    training times and flag contended ones."""
    final = apply_timing_caveats(final, caveats)
    return _figure_section(
        "7. Accuracy against cost", plot_data.cost_points(final), "cost_points.csv", out,
        cost_figure,
        "Per cell of final.csv: mean test accuracy over seeds against mean train_time_s "
        "(wall time of training and validation on this run's hardware) and against the "
        "maximum trainable_params. A strategy is Pareto-optimal within its dataset, "
        "backbone and n_train when no other strategy has at least its accuracy at no "
        "more cost, one of them strictly better; identical points are both optimal "
        "(cost_points.csv: pareto_time, pareto_params)." + caveat_text(final, caveats))


def curve_blocks(trials: pd.DataFrame, epochs: pd.DataFrame | None, out: Path) -> list[Block]:
    empty = "no epochs.csv" if epochs is None else "no epoch rows of the best trials"
    text = (
        "Validation accuracy after each epoch of the best COMPLETE tuning trial of each cell "
        "(highest val_acc, ties: the lowest trial number), from epochs.csv; best_curves.csv "
        "also holds each epoch's mean training loss (train_loss). These are tuning trials, "
        "not the final seeded re-runs.")
    if epochs is None:
        text = ("No training curves: no epochs.csv in this results folder (results written "
                "before per-epoch rows were kept).")
    return _figure_section("8. Training curves of the best trials",
                           plot_data.best_curves(trials, epochs), "best_curves.csv", out,
                           partial(curves_figure, empty_message=empty), text)


def importance_blocks(trials: pd.DataFrame, out: Path) -> list[Block]:
    """Section 9: Optuna's fANOVA importances of each cell's tuned parameters (a line
    instead of an empty figure when no strategy tuned two parameters in enough trials)."""
    table = param_importances(trials)
    if not importance_strategies(table):
        table.to_csv(out / "param_importance.csv", index=False)
        return [Heading("9. Hyperparameter importances"), Paragraph(
            f"No cell tuned two or more parameters in at least {MIN_TRIALS} COMPLETE trials, so "
            "no importance can be ranked here (a strategy that tunes only its LR has an "
            "importance of 1 by definition).")]
    return _figure_section(
        "9. Hyperparameter importances", table, "param_importance.csv",
        out, importance_figure,
        "Per cell with at least " f"{MIN_TRIALS} COMPLETE trials, the trials of trials.csv "
        "are added to an in-memory Optuna study (distributions inferred from the values "
        "the trials took; positive floats spanning more than a factor 10 on a log scale) "
        "and ranked by optuna.importance's fANOVA evaluator (seed 0), normalised to sum 1 "
        "per cell. Parameters that never varied are left out. With a handful of trials "
        "per cell these are rough: read the dots' spread, not the bars alone "
        "(param_importance.csv).")


def confusion_blocks(final: pd.DataFrame, confusion: pd.DataFrame | None,
                     out: Path) -> list[Block]:
    """Section 10: the test confusion matrix of each cell's best strategy."""
    if confusion is None:
        empty = "no confusion.csv (results written before ftbench recorded it)"
    else:
        empty = "no confusion rows of the final seeds"
    return _figure_section(
        "10. Confusion matrices of the best models", best_confusion(final, confusion),
        "confusion_best.csv", out, partial(confusion_figure, empty_message=empty),
        "Per cell, the best strategy (the highest mean validation accuracy over seeds, as in "
        "section 1); its seeds' test predictions, counted in confusion.csv, are summed and "
        "each true class's row is divided by its test images, so the diagonal is the "
        "per-class recall (confusion_best.csv).")


def _figure_section(title: str, table: pd.DataFrame, csv_name: str, out: Path,
                    draw: Callable[[pd.DataFrame, Path], FigureFile], text: str) -> list[Block]:
    """A figure section: its numbers written to ``out/csv_name``, its figure, its text."""
    table.to_csv(out / csv_name, index=False)
    return [Heading(title), Image(draw(table, out / "figures")), Paragraph(text)]
