"""Findings that survive: the guideline verdicts of two runs side by side, per regime and
dataset, and whether each holds in both or differs, with the likely cause among the settings
that differ (``ftbench compare``).

Each run's verdicts are the report's own (:func:`report.guideline.compare_to_guideline`, at
the run's own margin): the best strategy chosen on validation, its learning rate, its mean
best epoch of the epoch budget, and the guideline strategy verdict. Datasets match by their
key (``as:`` name) and regimes by the report's labels; backbones match by key too unless each
run has only one (a run at another input size may name its backbone differently).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks.results.guideline_table import format_lr, regime_rank
from report.guideline import compare_to_guideline
from report.inputs import TRIALS_REQUIRED, read_margin, read_optional, with_optional
from report.render import Block, Bullets, Heading, Paragraph, Table, render_markdown
from report.run_settings import UNKNOWN, RunSettings, differences, read_settings

SIDE_COLUMNS = ["backbone", "n_train", "best", "lr", "epochs", "verdict"]
FINDING_COLUMNS = ["regime", "dataset", *(f"{s}_{c}" for s in "ab" for c in SIDE_COLUMNS),
                   "a_reason", "b_reason", "finding", "changed", "cause"]
RESOLUTION_OR_BUDGET = ("input size", "epoch budget", "trials", "seeds")
"""Settings whose joint difference is reported as "depends on resolution or budget"."""


@dataclass(frozen=True, eq=False)
class Findings:
    """The side-by-side table (:data:`FINDING_COLUMNS`), the settings table of
    :func:`report.run_settings.differences` and one line per finding."""

    table: pd.DataFrame
    differences: pd.DataFrame
    lines: tuple[str, ...]


def guideline_cells(folder: Path, final: pd.DataFrame) -> pd.DataFrame:
    """The report's guideline verdicts of one folder, one row per dataset, backbone and
    regime, with the best strategy's final learning rate (``lr``).

    Raises:
        ValueError: ``trials.csv`` is present but empty or damaged, or ``suite.yaml`` has a
            bad margin.
    """
    trials = read_optional(folder / "trials.csv", TRIALS_REQUIRED)
    trials = pd.DataFrame(columns=TRIALS_REQUIRED) if trials is None else trials
    cells = compare_to_guideline(with_optional(trials, "trials"), final,
                                 read_margin(folder / "suite.yaml"))
    return cells.assign(lr=[_best_lr(final, r) for r in cells.itertuples()])


def _best_lr(final: pd.DataFrame, cell) -> float:
    """The learning rate of a cell's best strategy in ``final.csv`` (its seeds share it)."""
    rows = final[(final["dataset"] == cell.dataset) & (final["backbone"] == cell.backbone)
                 & (final["n_train"] == cell.n_train) & (final["strategy"] == cell.best_strategy)]
    if "lr" in rows and rows["lr"].notna().any():
        return float(rows["lr"].dropna().iloc[0])
    try:
        return float(json.loads(str(rows["params"].iloc[0]))["lr"])
    except (KeyError, IndexError, ValueError, TypeError):
        return math.nan


def compare_findings(a: tuple[Path, pd.DataFrame], b: tuple[Path, pd.DataFrame]) -> Findings:
    """The findings of two folders, each given as ``(folder, its final.csv rows)``."""
    settings = read_settings(a[0]), read_settings(b[0])
    table = side_by_side(guideline_cells(*a), guideline_cells(*b), *settings)
    return Findings(table, differences(*settings), tuple(finding_lines(table)))


def side_by_side(a: pd.DataFrame, b: pd.DataFrame, settings_a: RunSettings,
                 settings_b: RunSettings) -> pd.DataFrame:
    """One row per regime and dataset of either run (columns :data:`FINDING_COLUMNS`).

    Args:
        a, b: :func:`guideline_cells` of A and B.
        settings_a, settings_b: their :func:`report.run_settings.read_settings`.
    """
    one_each = a["backbone"].nunique() <= 1 and b["backbone"].nunique() <= 1
    keys = ["regime", "dataset"] + ([] if one_each else ["backbone"])
    merged = _sides(a, "a", keys).merge(_sides(b, "b", keys), on=keys, how="outer")
    rows = [_finding(r, settings_a, settings_b) for _, r in merged.iterrows()]
    table = pd.DataFrame(rows, columns=FINDING_COLUMNS).astype(
        {"a_n_train": "Int64", "b_n_train": "Int64"})
    table = table.sort_values(["regime", "dataset"], kind="stable", key=lambda column: (
        column.map(regime_rank) if column.name == "regime" else column))
    return table.reset_index(drop=True)


def _sides(cells: pd.DataFrame, side: str, keys: list[str]) -> pd.DataFrame:
    """One run's cells with the side-by-side columns, prefixed ``a_`` or ``b_``."""
    shown = pd.DataFrame({
        "regime": cells["regime"], "dataset": cells["dataset"], "backbone": cells["backbone"],
        "n_train": cells["n_train"], "best": cells["best_strategy"],
        "lr": [format_lr(v) if math.isfinite(v) else UNKNOWN for v in cells["lr"]],
        "epochs": [_epochs(m, n) for m, n in zip(cells["mean_best_epoch"],
                                                  cells["max_epochs"])],
        "epoch_budget": cells["max_epochs"], "verdict": cells["strategy_verdict"],
        "reason": cells["strategy_reason"]})
    named = {c: f"{side}_{c}" for c in shown.columns if c not in keys}
    return shown.rename(columns=named)


def _epochs(mean_best: float, budget: int) -> str:
    return UNKNOWN if math.isnan(mean_best) else f"{mean_best:.1f} / {int(budget)}"


def _finding(r: pd.Series, sa: RunSettings, sb: RunSettings) -> dict:
    r = r.copy()
    for side in ("a", "b"):  # one backbone column when backbones are matched by key
        r[f"{side}_backbone"] = r.get(f"{side}_backbone", r.get("backbone"))
    row = {c: r.get(c, math.nan) for c in FINDING_COLUMNS}
    if pd.isna(r["a_best"]) or pd.isna(r["b_best"]):
        only = "only in B" if pd.isna(r["a_best"]) else "only in A"
        return {**row, "finding": only, "changed": "", "cause": ""}
    changes = setting_changes(r, sa, sb)
    same = r["a_best"] == r["b_best"] and r["a_verdict"] == r["b_verdict"]
    return {**row, "finding": "holds in both" if same else "differs",
            "changed": ", ".join(f"{name} {values}" for name, values in changes),
            "cause": "" if same else cause_text(changes)}


def setting_changes(cell: pd.Series, sa: RunSettings, sb: RunSettings
                    ) -> list[tuple[str, str]]:
    """``(setting, "A vs B")`` for each setting that differs for one regime and dataset
    (settings one run does not record are left out).

    Args:
        cell: a row of A and B's merged cells: ``a_backbone``, ``a_epoch_budget`` (the
            cell's ``max_epochs``), ``a_n_train`` and their ``b_`` twins.
        sa, sb: the settings of A and B (input size per backbone, trials, seeds).
    """
    pairs = [("input size", sa.input_size_of(cell["a_backbone"]),
              sb.input_size_of(cell["b_backbone"]), "{} vs {} px"),
             ("epoch budget", _int(cell["a_epoch_budget"]), _int(cell["b_epoch_budget"]),
              "{} vs {} epochs"),
             ("training size", _int(cell["a_n_train"]), _int(cell["b_n_train"]),
              "{} vs {} images"),
             ("trials", sa.trials, sb.trials, "{} vs {} per cell"),
             ("seeds", sa.seeds, sb.seeds, "[{}] vs [{}]"),
             ("backbone", str(cell["a_backbone"]), str(cell["b_backbone"]), "{} vs {}")]
    return [(name, shown.format(left, right)) for name, left, right, shown in pairs
            if left != right and UNKNOWN not in (left, right)]


def _int(value: object) -> str:
    return UNKNOWN if pd.isna(value) else str(int(value))


def cause_text(changes: list[tuple[str, str]]) -> str:
    """The likely cause of a finding that differs: the one setting that differs; "depends on
    resolution or budget" when several of :data:`RESOLUTION_OR_BUDGET` differ (and nothing
    else); else the settings that differ, none named as the cause."""
    shown = ", ".join(f"{name} {values}" for name, values in changes)
    if not changes:
        return "no recorded setting differs: chance or the code"
    if len(changes) == 1:
        return f"likely cause: {shown}"
    if all(name in RESOLUTION_OR_BUDGET for name, _ in changes):
        return f"depends on resolution or budget ({shown})"
    return f"several settings differ ({shown}); no one cause can be named"


def finding_lines(table: pd.DataFrame) -> list[str]:
    """One line per row of :func:`side_by_side`, e.g. ``cifar5 at <1k: holds in both: ...``."""
    return [f"{r.dataset} at {r.regime}: {_line(r)}" for r in table.itertuples()]


def _line(r) -> str:
    if r.finding.startswith("only in"):
        side = ("a", "A") if r.finding == "only in A" else ("b", "B")
        best, verdict = getattr(r, f"{side[0]}_best"), getattr(r, f"{side[0]}_verdict")
        return f"{r.finding} ({side[1]}: best {best}, guideline verdict {verdict})"
    if r.finding == "holds in both":
        survives = f"; survives {r.changed}" if r.changed else ""
        return f"holds in both: best {r.a_best}, guideline verdict {r.a_verdict}{survives}"
    return (f"differs: A best {r.a_best} (guideline verdict {r.a_verdict}), B best {r.b_best} "
            f"({r.b_verdict}); {r.cause}")


def findings_blocks(findings: Findings) -> list[Block]:
    """The findings as report blocks: the side-by-side table, the lines and the settings."""
    return [
        Heading("Guideline findings, A and B side by side"),
        Paragraph("Per guideline regime and dataset, each run's best strategy (chosen on "
                  "validation), its learning rate, its mean best epoch of the epoch budget, "
                  "and the report's guideline strategy verdict. A finding holds in both when "
                  "A and B have the same best strategy and the same verdict."),
        *_side_blocks(findings),
        Heading("What differs between the runs"), Table(findings.differences)]


def _side_blocks(findings: Findings) -> list[Block]:
    if findings.table.empty:
        return [Paragraph("No regime of the guideline table in either folder.")]
    return [Table(display(findings.table)), Bullets(findings.lines)]


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The side-by-side table as shown: A's and B's columns, and the finding."""
    columns = {"regime": "regime", "dataset": "dataset", "a_best": "A best", "a_lr": "A LR",
               "a_epochs": "A epochs", "a_verdict": "A verdict", "b_best": "B best",
               "b_lr": "B LR", "b_epochs": "B epochs", "b_verdict": "B verdict",
               "finding": "finding"}
    return table[list(columns)].rename(columns=columns).fillna(UNKNOWN)


def findings_markdown(findings: Findings) -> str:
    """:func:`findings_blocks` as Markdown."""
    return render_markdown(findings_blocks(findings))


def write_findings(findings: Findings, out: Path) -> list[Path]:
    """``findings.csv`` and ``.md`` (the side-by-side table and the lines), and
    ``differences.csv`` and ``.md``, into the folder ``out``; their paths."""
    files = {"findings.csv": findings.table, "differences.csv": findings.differences}
    for name, table in files.items():
        table.to_csv(out / name, index=False)
    (out / "findings.md").write_text(render_markdown(_side_blocks(findings)), encoding="utf-8")
    (out / "differences.md").write_text(render_markdown([Table(findings.differences)]),
                                        encoding="utf-8")
    return [out / n for n in ("findings.csv", "findings.md", "differences.csv",
                              "differences.md")]
