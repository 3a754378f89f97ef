"""Build the report of one results directory: load rows, compute tables, draw, write files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.results.csv_check import read_checked
from benchmarks.results.layout import check_report_folder
from report import plot_data, sections
from report.answer import measured_table
from report.completeness import completeness_blocks
from report.confusion import macro_scores
from report.figure_base import FigureFile
from report.figure_verdicts import verdict_figure
from report.figures import accuracy_figure, lr_figure
from report.guideline import compare_to_guideline
from report.guideline_table import GUIDELINES, SOURCE_SIZE_TABLE
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
from report.stats import PAIRED_TEST_NAME
from report.verdicts import MARGIN

TEXT_COLUMNS = ("suite", "backbone", "dataset", "family", "regime", "strategy", "status",
                "reason", "params", "mlflow_run_id", "true_class", "pred_class")
TRIALS_REQUIRED = ("backbone", "dataset", "n_train", "regime", "strategy", "status", "reason",
                   "lr", "val_acc")
FINAL_REQUIRED = ("backbone", "dataset", "n_train", "regime", "strategy", "seed", "test_acc",
                  "val_acc", "best_epoch", "max_epochs")
EPOCHS_REQUIRED = ("backbone", "dataset", "n_train", "strategy", "trial", "epoch", "val_acc",
                   "train_loss")
CONFUSION_REQUIRED = ("n_train", "seed", "true_idx", "true_class", "pred_idx", "pred_class",
                      "count", "mlflow_run_id")
NUMERIC_COLUMNS = ("n_train", "lr", "val_acc", "test_acc", "test_macro_f1", "best_epoch",
                   "max_epochs", "seed", "trial", "epoch", "train_loss", "train_time_s",
                   "trainable_params", "true_idx", "pred_idx", "count")
OPTIONAL_COLUMNS = {"trials": ("trial", "is_default"),
                    "final": ("train_time_s", "trainable_params")}
"""Columns the report uses where present; hand-made or older files may lack them (NaN)."""


def _missing(path: Path, state: str) -> ValueError:
    return ValueError(
        f"{path.name} '{path}': the file must exist and hold at least one row, but got "
        f"{state}. Run `ftbench run` with this results directory to produce it, then build "
        "the report again."
    )


def read_results_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a results CSV (trials, final, epochs) with names as text and numbers coerced.

    Args:
        path: The CSV file.
        required: Columns the report needs.

    Returns:
        The rows; text columns have '' for empty cells.

    Raises:
        ValueError: If the file is missing, empty, has a damaged row or lacks a required
            column.
    """
    if not path.is_file():
        raise _missing(path, "no such file")
    if path.stat().st_size == 0:
        raise _missing(path, "an empty file")
    text = {c: str for c in TEXT_COLUMNS}
    checked, _ = read_checked(path)
    frame = pd.read_csv(io.StringIO(checked), dtype=text, keep_default_na=False,
                        na_values=[""])
    if frame.empty:
        raise _missing(path, "a header with no rows")
    absent = [c for c in required if c not in frame.columns]
    if absent:
        raise ValueError(
            f"{path.name} '{path}': columns {list(required)} must be present, but got no "
            f"{absent}. Regenerate it with `ftbench run`."
        )
    for column in frame.columns.intersection(TEXT_COLUMNS):
        frame[column] = frame[column].fillna("")
    for column in frame.columns.intersection(NUMERIC_COLUMNS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if frame["n_train"].isna().any():
        raise ValueError(f"{path.name} '{path}': n_train must be an integer in every row, but "
                         "got empty or non-numeric cells. Regenerate it with `ftbench run`.")
    frame["n_train"] = frame["n_train"].astype(int)
    return frame


def read_optional(path: Path, required: tuple[str, ...]) -> pd.DataFrame | None:
    """A table the report can do without (``epochs.csv``, ``confusion.csv``), or None.

    Raises:
        ValueError: If the file exists but is empty or lacks a required column.
    """
    return read_results_csv(path, required) if path.exists() else None


def _with_optional(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    absent = [c for c in OPTIONAL_COLUMNS[table] if c not in frame.columns]
    return frame.assign(**{c: float("nan") for c in absent})


def read_run_info(path: Path) -> dict:
    """``run.json`` as a dict, or ``{}`` when absent.

    Raises:
        ValueError: If the file exists but is not valid JSON.
        TypeError: If it holds JSON other than an object.
    """
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"run.json '{path}': valid JSON must hold, but got {error}. "
                         "Delete or regenerate it with `ftbench run`.") from error
    if not isinstance(info, dict):
        raise TypeError(f"run.json '{path}': a JSON object must hold, but got "
                         f"{type(info).__name__}. Delete or regenerate it with `ftbench run`.")
    return info


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


def _guideline_blocks(table: pd.DataFrame, final: pd.DataFrame, margin: float
                      ) -> list[Block]:
    known = set(table["regime"])
    dropped = sorted(set(final["regime"]) - known)
    blocks: list[Block] = [
        Heading("1. Guideline table vs measurement"),
        Paragraph("The rule of thumb under test, as fine-tuning tutorials state it (source "
                  "below): freeze the backbone below 1k images, freeze part of it from 1k to "
                  "10k, fine-tune everything above 10k, at these learning rates and epochs:"),
        _reference_table(),
        _method_text(dropped, margin),
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
            ``epochs.csv``, ``confusion.csv``, ``suite.yaml`` and ``run.json``.

    Returns:
        Path of ``results_dir/report/report.md``.

    Raises:
        ValueError: If ``trials.csv`` or ``final.csv`` is missing, empty or malformed, or
            ``epochs.csv`` or ``confusion.csv`` is present but empty or malformed, or a
            report file cannot be written.
    """
    results_dir = Path(results_dir)
    trials = _with_optional(read_results_csv(results_dir / "trials.csv", TRIALS_REQUIRED),
                            "trials")
    final = _with_optional(read_results_csv(results_dir / "final.csv", FINAL_REQUIRED), "final")
    epochs = read_optional(results_dir / "epochs.csv", EPOCHS_REQUIRED)
    confusion = read_optional(results_dir / "confusion.csv", CONFUSION_REQUIRED)
    info = read_run_info(results_dir / "run.json")
    margin = read_margin(results_dir / "suite.yaml")
    if confusion is not None and "mlflow_run_id" in final:
        final = final.merge(macro_scores(confusion), on="mlflow_run_id", how="left")
    out = check_report_folder(results_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        blocks = (title_blocks(info, final) + completeness_blocks(results_dir)
                  + _measured_blocks(trials, final, out, margin)
                  + sections.trial_blocks(trials)
                  + sections.similarity_blocks(_similarity(final, out, margin), margin)
                  + sections.gain_blocks(trials, out) + sections.cost_blocks(final, out)
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


def read_margin(path: Path) -> float:
    """The practical margin of the verdicts: ``margin`` of the folder's ``suite.yaml``, else
    :data:`report.verdicts.MARGIN` (a folder without one, or of an older ftbench).

    Raises:
        ValueError: the file's margin is not a number in (0, 0.5).
    """
    if not path.is_file():
        return MARGIN
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return MARGIN  # provenance shows the file as it is; the verdicts take the default
    value = data.get("margin", MARGIN) if isinstance(data, dict) else MARGIN
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 0.5:
        raise ValueError(f"suite.yaml '{path}': margin must be a number in (0, 0.5), but got "
                         f"{value!r}. Fix it (0.01 = one accuracy point), or delete the key.")
    return float(value)


def _similarity(final: pd.DataFrame, out: Path, margin: float) -> pd.DataFrame:
    table = similarity_table(final, margin)
    table.to_csv(out / "similarity_table.csv", index=False)
    return table


def _measured_blocks(trials: pd.DataFrame, final: pd.DataFrame, out: Path,
                     margin: float) -> list[Block]:
    """Sections 1-3: the guideline table, accuracy by size and LR sensitivity."""
    table = compare_to_guideline(trials, final, margin)
    table.to_csv(out / "guideline_table.csv", index=False)
    acc = plot_data.accuracy_by_size(final)
    acc.to_csv(out / "accuracy_by_size.csv", index=False)
    points = plot_data.lr_points(trials)
    figures = [accuracy_figure(acc, out / "figures"),
               lr_figure(points, plot_data.guideline_bands(points["regime"]), out / "figures")]
    return (_answer_blocks(table, out) + _guideline_blocks(table, final, margin)
            + _figure_blocks(acc, figures))
