"""The data-size x domain-similarity table (the tutorials' second table) and negative
transfer, judged by the rule of :mod:`benchmarks.results.verdicts`.

Every (dataset, backbone, n_train) cell of ``final.csv`` gets a row:

* its amount of data: ``little`` (the guideline's <1k row), ``much`` (>10k) or ``middle``;
* the best pretrained strategy (on validation) against ``from_scratch`` on test, paired by
  seed: **negative transfer** (or none gained) is ``yes`` where from-scratch is worse by less
  than the margin, with 95% confidence; ``no`` where pretraining helps by more than the
  margin; ``inconclusive`` otherwise;
* for little and much data of a ``near`` or ``far`` dataset, the tutorials' advice, the
  strategy that stands for it, and a verdict as in the guideline table.
"""

from __future__ import annotations

import math

import pandas as pd

from benchmarks.results.stats import ACCURACY_BOUNDS, t_interval
from benchmarks.results.verdicts import (
    AGREES,
    DISAGREES,
    MARGIN,
    best_on_validation,
    cell_difference,
    holm,
    judge,
)

SCRATCH = "from_scratch"
AMOUNTS = {"<1k": "little", "1k-10k": "middle", ">10k": "much"}
ADVICE: dict[tuple[str, str], tuple[str, str]] = {
    ("near", "little"): ("tune only the last layer(s)", "feature_extraction"),
    ("far", "little"): ("freeze the first layers, train the rest", "partial_freeze"),
    ("near", "much"): ("fine-tune the whole model", "full_finetune"),
    ("far", "much"): ("fine-tuning may not help much: consider training from scratch",
                      SCRATCH),
}
"""(family, amount) -> (the tutorials' advice, the strategy that stands for it)."""

COLUMNS = ["dataset", "backbone", "family", "n_train", "regime", "amount", "best_pretrained",
           "best_pretrained_mean", "scratch_mean", "scratch_minus_pretrained", "diff_low",
           "diff_high", "p_value", "p_holm", "negative_transfer", "advice", "advice_strategy",
           "best_strategy", "advice_verdict"]


def similarity_table(final: pd.DataFrame, margin: float = MARGIN) -> pd.DataFrame:
    """One row per cell of ``final.csv`` (columns ``COLUMNS``), sorted by dataset and size;
    ``p_holm`` adjusts the paired t-tests' p over the table (Holm)."""
    rows = [_row(cell, margin) for _, cell in final.groupby(["dataset", "backbone", "n_train"])]
    table = pd.DataFrame(rows, columns=COLUMNS)
    if not table.empty:
        table["p_holm"] = holm(table["p_value"].tolist())
    return table.sort_values(["dataset", "backbone", "n_train"], kind="stable").reset_index(
        drop=True)


def _row(cell: pd.DataFrame, margin: float) -> dict:
    """The similarity facts of one cell."""
    first = cell.iloc[0]
    family = str(first.get("family", "") or "")
    amount = AMOUNTS.get(str(first["regime"]), "middle")
    means = {s: t_interval(g["test_acc"], bounds=ACCURACY_BOUNDS).mean
             for s, g in cell.groupby("strategy")}
    by_seed = cell.groupby(["strategy", "seed"])["test_acc"].mean()
    return {"dataset": first["dataset"], "backbone": first["backbone"], "family": family,
            "n_train": int(first["n_train"]), "regime": first["regime"], "amount": amount,
            **_transfer(cell, means, by_seed, margin),
            **_advice(cell, family, amount, means, by_seed, margin)}


def _transfer(cell: pd.DataFrame, means: dict[str, float], by_seed: pd.Series,
              margin: float) -> dict:
    """Best pretrained strategy (on validation) vs from-scratch on test, and the flag."""
    pretrained = cell[cell["strategy"] != SCRATCH]
    if SCRATCH not in means or pretrained.empty:
        best = best_on_validation(pretrained) if not pretrained.empty else ""
        return {"best_pretrained": best, "best_pretrained_mean": means.get(best, math.nan),
                "scratch_mean": means.get(SCRATCH, math.nan),
                "scratch_minus_pretrained": math.nan, "diff_low": math.nan,
                "diff_high": math.nan, "p_value": math.nan, "p_holm": math.nan,
                "negative_transfer": "not measured (from_scratch or pretrained missing)"}
    best = best_on_validation(pretrained)
    diff = cell_difference(by_seed, SCRATCH, best)
    verdict = judge(SCRATCH, best, True, diff, margin)
    flag = {AGREES: "yes (from_scratch is not worse by more than the margin)",
            DISAGREES: "no (pretraining helps by more than the margin)"}.get(
                verdict.label, "inconclusive")
    return {"best_pretrained": best, "best_pretrained_mean": means[best],
            "scratch_mean": means[SCRATCH], "scratch_minus_pretrained": diff.mean,
            "diff_low": diff.low, "diff_high": diff.high, "p_value": diff.p_value,
            "p_holm": math.nan, "negative_transfer": f"{flag}: {verdict.reason}"}


def _advice(cell: pd.DataFrame, family: str, amount: str, means: dict[str, float],
            by_seed: pd.Series, margin: float) -> dict:
    """The tutorials' advice for this family and amount, and whether the measurement agrees."""
    best = best_on_validation(cell)
    advice = ADVICE.get((family, amount))
    if advice is None:
        return {"advice": "", "advice_strategy": "", "best_strategy": best,
                "advice_verdict": "not in the table (middle amount or no family)"}
    text, strategy = advice
    ran = strategy in means
    diff = cell_difference(by_seed, strategy, best)
    verdict = judge(strategy, best, ran, diff, margin)
    return {"advice": text, "advice_strategy": strategy, "best_strategy": best,
            "advice_verdict": str(verdict)}

