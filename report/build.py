"""Build the report of one results directory: load rows, compute tables, draw, write files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.results.guideline_table import GUIDELINES, SOURCE_SIZE_TABLE
from benchmarks.results.layout import check_report_folder
from benchmarks.results.macro import MACRO_COLUMNS, macro_from_counts
from benchmarks.results.stats import PAIRED_TEST_NAME
from report import plot_data, sections
from report.answer import measured_table
from report.completeness import completeness_blocks
from report.figure_base import FigureFile
from report.figure_verdicts import verdict_figure
from report.figures import accuracy_figure, lr_figure
from report.guideline import compare_to_guideline, reach_text
from report.inputs import (
    CONFUSION_REQUIRED,
    EPOCHS_REQUIRED,
    FINAL_REQUIRED,
    TRIALS_REQUIRED,
    margin_of,
    reach_seeds_of,
    read_optional,
    read_results_csv,
    read_run_info,
    read_suite_yaml,
    with_optional,
)
from report.pictures import picture_blocks
from report.provenance import provenance_blocks, title_blocks
from report.render import (
    Block,
    Bullets,
    Heading,
    Image,
    Paragraph,
    Table,
    guideline_display,
    render_html,
    render_markdown,
)
from report.similarity import similarity_table
from report.timing import read_timing_caveats


def _method_text(dropped: list[str], margin: float) -> Paragraph:
    text = (
        "The rule behind every strategy verdict: the measured best strategy is the one with "
        "the highest mean validation accuracy (the data the tuning saw), and the guideline's "
        "strategy is judged on test by the per-seed paired difference to it, which agrees "
        f"when its 95% interval lies above -{margin * 100:g} points (the margin), disagrees "
        "when it lies below, and is inconclusive otherwise (with the seeds that would "
        "resolve it at the observed spread). One row per guideline regime present, for each "
        "dataset and backbone; where several training-set sizes fall in one regime, the "
        "largest. Test accuracy: mean over seeds with a 95% Student-t interval (clipped to "
        "[0, 1]). Difference: guideline strategy minus best, in points, with its 95% "
        f"interval and Cohen's d_z; p: two-sided {PAIRED_TEST_NAME} of no difference, and "
        "in brackets Holm-adjusted over every comparison of this table. Measured good LR: "
        "the range of the best strategy's COMPLETE trials within the margin of its best "
        "validation accuracy; agrees if it overlaps the guideline's range, inconclusive with "
        "fewer than 2 trials in it. Epochs to best: mean best epoch of the best strategy over "
        "seeds, of the epoch budget; not tested when the budget is below the guideline's "
        "lower bound."
    )
    if dropped:
        text += f" Regimes without a guideline row are not tabulated: {', '.join(dropped)}."
    return Paragraph(text)


def _verdict_summary(table: pd.DataFrame) -> Bullets:
    items = []
    for column, name in (("strategy_verdict", "strategy"), ("lr_verdict", "LR"),
                         ("epochs_verdict", "epochs")):
        counts = table[column].value_counts()
        items.append(f"{name} verdicts: " + ", ".join(f"{n} {lb}" for lb, n in counts.items()))
    return Bullets(tuple(items))


def _reference_table() -> Table:
    rows = [(g.regime, g.strategy, g.lr_text, g.epochs_text) for g in GUIDELINES]
    return Table(pd.DataFrame(rows, columns=["regime", "strategy", "LR", "epochs"]))


def _guideline_blocks(table: pd.DataFrame, final: pd.DataFrame, margin: float,
                      reach: str = "") -> list[Block]:
    known = set(table["regime"])
    dropped = sorted(set(final["regime"]) - known)
    blocks: list[Block] = [
        Heading("1. Guideline table vs measurement"),
        Paragraph("The rule of thumb under test, as fine-tuning tutorials state it (source "
                  "below): freeze the backbone below 1k images, freeze part of it from 1k to "
                  "10k, fine-tune everything above 10k, at these learning rates and epochs:"),
        _reference_table(),
        _method_text(dropped, margin),
        *([Paragraph(reach)] if reach else []),
    ]
    if table.empty:
        return blocks + [Paragraph("No regime of the guideline table was measured.")]
    blocks.append(_verdict_summary(table))
    families = final.groupby("dataset")["family"].first().to_dict() if "family" in final else {}
    for (dataset, backbone), rows in table.groupby(["dataset", "backbone"], sort=False):
        family = f", family {families[dataset]}" if families.get(dataset) else ""
        blocks += [Heading(f"Dataset {dataset} (backbone {backbone}{family})", 3),
                   Table(guideline_display(rows))]
    return blocks + [Paragraph(SOURCE_SIZE_TABLE)]


def _answer_blocks(table: pd.DataFrame, out: Path) -> list[Block]:
    """The opening answer: the guideline table as measured, and the verdict figure."""
    answer = measured_table(table)
    answer.to_csv(out / "answer.csv", index=False)
    blocks: list[Block] = [Heading("The answer: the guideline table as measured")]
    if answer.empty:
        return blocks + [Paragraph("No regime of the guideline table was measured.")]
    return blocks + [
        Paragraph(
            "Per data-size regime, the guideline's recommendation beside what was measured on "
            "each dataset (in brackets), and on how many datasets each part of the guideline "
            "holds; the other verdicts are counted in brackets. The best strategy is chosen "
            "on validation; the guideline's agrees when, on test, it is worse than the best by "
            "less than the margin with 95% confidence (section 1 has the rule, every number, "
            "interval and test behind it; answer.csv)."),
        Table(answer), Image(verdict_figure(table, out / "figures"))]


def _figure_blocks(acc: pd.DataFrame, figures: list[FigureFile]) -> list[Block]:
    return [
        Heading("2. Accuracy by training-set size"), Image(figures[0]),
        Paragraph("Test accuracy over seeds, and the mean macro F1, precision and recall "
                  "(the last two from the confusion counts; accuracy_by_size.csv)."),
        Table(acc),
        Heading("3. Learning-rate sensitivity"), Image(figures[1]),
    ]


def build_report(results_dir: Path) -> Path:
    """Write ``report.md``, ``report.html``, figures and CSV tables for one results directory.

    Args:
        results_dir: Folder holding ``trials.csv``, ``final.csv`` and optionally
            ``epochs.csv``, ``confusion.csv``, ``suite.yaml``, ``run.json`` and
            ``timing_caveats.csv``.

    Returns:
        Path of ``results_dir/report/report.md``.

    Raises:
        ValueError: If ``trials.csv`` or ``final.csv`` is missing, empty or malformed, or
            ``epochs.csv`` or ``confusion.csv`` is present but empty or malformed, or a
            report file cannot be written.
    """
    results_dir = Path(results_dir)
    trials = with_optional(read_results_csv(results_dir / "trials.csv", TRIALS_REQUIRED),
                            "trials")
    final = with_optional(read_results_csv(results_dir / "final.csv", FINAL_REQUIRED), "final")
    epochs = read_optional(results_dir / "epochs.csv", EPOCHS_REQUIRED)
    confusion = read_optional(results_dir / "confusion.csv", CONFUSION_REQUIRED)
    info = read_run_info(results_dir / "run.json")
    suite = read_suite_yaml(results_dir / "suite.yaml")  # read once for the two settings
    margin, reach_seeds = margin_of(suite, results_dir / "suite.yaml"), reach_seeds_of(suite)
    caveats = read_timing_caveats(results_dir)
    final = _with_macro(final, confusion)
    out = check_report_folder(results_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        blocks = (title_blocks(info, final) + completeness_blocks(results_dir)
                  + _measured_blocks(trials, final, out, margin, reach_seeds)
                  + sections.trial_blocks(trials)
                  + sections.similarity_blocks(_similarity(final, out, margin), margin)
                  + sections.gain_blocks(trials, out) + sections.cost_blocks(final, out, caveats)
                  + sections.curve_blocks(trials, epochs, out)
                  + sections.importance_blocks(trials, out)
                  + sections.confusion_blocks(final, confusion, out)
                  + picture_blocks(results_dir, out)
                  + provenance_blocks(results_dir, info, trials, final))
        title = blocks[0].text if isinstance(blocks[0], Heading) else "ftbench report"
        (out / "report.html").write_text(render_html(blocks, title), encoding="utf-8")
        markdown = out / "report.md"
        markdown.write_text(render_markdown(blocks), encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"report file '{exc.filename or out}': it must be writable, but "
                         f"{exc.strerror or exc}. Fix its permissions or free its path, then "
                         f"run `ftbench report {results_dir}` (the results are intact)."
                         ) from None
    return markdown


def _with_macro(final: pd.DataFrame, confusion: pd.DataFrame | None) -> pd.DataFrame:
    """``final`` with macro precision and recall: its own columns, or, in a folder of an
    older ftbench without them, computed from the seeds' confusion counts."""
    if all(c in final for c in MACRO_COLUMNS) or confusion is None \
            or "mlflow_run_id" not in final:
        return final
    return final.drop(columns=[c for c in MACRO_COLUMNS if c in final]).merge(
        macro_from_counts(confusion), on="mlflow_run_id", how="left")


def _similarity(final: pd.DataFrame, out: Path, margin: float) -> pd.DataFrame:
    table = similarity_table(final, margin)
    table.to_csv(out / "similarity_table.csv", index=False)
    return table


def _measured_blocks(trials: pd.DataFrame, final: pd.DataFrame, out: Path,
                     margin: float, reach_seeds: tuple[int, ...] = ()) -> list[Block]:
    """Sections 1-3: the guideline table, accuracy by size and LR sensitivity
    (``reach_seeds``: the suite's seeds within reach, said where they ran)."""
    table = compare_to_guideline(trials, final, margin)
    table.to_csv(out / "guideline_table.csv", index=False)
    acc = plot_data.accuracy_by_size(final)
    acc.to_csv(out / "accuracy_by_size.csv", index=False)
    points = plot_data.lr_points(trials)
    figures = [accuracy_figure(acc, out / "figures"),
               lr_figure(points, plot_data.guideline_bands(points["regime"]), out / "figures")]
    return (_answer_blocks(table, out)
            + _guideline_blocks(table, final, margin, reach_text(final, reach_seeds))
            + _figure_blocks(acc, figures))
