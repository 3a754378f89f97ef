"""The data-size x domain-similarity table (GUIDELINES.md section 2) and negative transfer.

Every (dataset, backbone, n_train) cell of ``final.csv`` gets a row:

* its amount of data: ``little`` (the guideline's <1k row), ``much`` (>10k) or ``middle``;
* the best pretrained strategy against ``from_scratch``, with a paired t-test over seeds;
  **negative transfer** is flagged where from-scratch is not worse: ``yes`` when its mean is
  at least the best pretrained strategy's, ``possible`` when it is lower but not
  significantly (p >= ``ALPHA``), ``no`` when pretraining helps significantly;
* for little and much data of a ``near`` or ``far`` dataset, the seed-004 advice, the
  strategy that stands for it, and a verdict as in the guideline table.
"""

from __future__ import annotations

import math

import pandas as pd

from report.guideline import ALPHA, strategy_verdict
from report.stats import ACCURACY_BOUNDS, best_strategy, paired_by_key, t_interval

SCRATCH = "from_scratch"
AMOUNTS = {"<1k": "little", "1k-10k": "middle", ">10k": "much"}
ADVICE: dict[tuple[str, str], tuple[str, str]] = {
    ("near", "little"): ("tune only the last layer(s)", "feature_extraction"),
    ("far", "little"): ("freeze the first layers, train the rest", "partial_freeze"),
    ("near", "much"): ("fine-tune the whole model", "full_finetune"),
    ("far", "much"): ("fine-tuning may not help much: consider training from scratch",
                      SCRATCH),
}
"""(family, amount) -> (seed 004's advice, the strategy that stands for it)."""

COLUMNS = ["dataset", "backbone", "family", "n_train", "regime", "amount", "best_pretrained",
           "best_pretrained_mean", "scratch_mean", "scratch_minus_pretrained", "p_value",
           "negative_transfer", "advice", "advice_strategy", "best_strategy",
           "advice_verdict"]


def similarity_table(final: pd.DataFrame) -> pd.DataFrame:
    """One row per cell of ``final.csv`` (columns ``COLUMNS``), sorted by dataset and size."""
    rows = [_row(cell) for _, cell in final.groupby(["dataset", "backbone", "n_train"])]
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["dataset", "backbone", "n_train"], kind="stable").reset_index(
        drop=True)


def _row(cell: pd.DataFrame) -> dict:
    """The similarity facts of one cell."""
    first = cell.iloc[0]
    family = str(first.get("family", "") or "")
    amount = AMOUNTS.get(str(first["regime"]), "middle")
    means = {s: t_interval(g["test_acc"], bounds=ACCURACY_BOUNDS).mean
             for s, g in cell.groupby("strategy")}
    by_seed = cell.groupby(["strategy", "seed"])["test_acc"].mean()
    row = {"dataset": first["dataset"], "backbone": first["backbone"], "family": family,
           "n_train": int(first["n_train"]), "regime": first["regime"], "amount": amount,
           **_transfer(means, by_seed), **_advice(family, amount, means, by_seed)}
    return row


def _transfer(means: dict[str, float], by_seed: pd.Series) -> dict:
    """Best pretrained strategy vs from-scratch, and the negative-transfer flag."""
    pretrained = {s: m for s, m in means.items() if s != SCRATCH}
    if SCRATCH not in means or not pretrained:
        return {"best_pretrained": best_strategy(pretrained) if pretrained else "",
                "best_pretrained_mean": max(pretrained.values(), default=math.nan),
                "scratch_mean": means.get(SCRATCH, math.nan),
                "scratch_minus_pretrained": math.nan, "p_value": math.nan,
                "negative_transfer": "not measured (from_scratch or pretrained missing)"}
    best = best_strategy(pretrained)
    test = paired_by_key(by_seed.loc[SCRATCH], by_seed.loc[best])
    gap = means[SCRATCH] - pretrained[best]
    return {"best_pretrained": best, "best_pretrained_mean": pretrained[best],
            "scratch_mean": means[SCRATCH], "scratch_minus_pretrained": gap,
            "p_value": test.p_value, "negative_transfer": _flag(gap, test.p_value,
                                                                test.n_pairs)}


def _flag(gap: float, p_value: float, n_pairs: int) -> str:
    """``yes`` where from-scratch is not worse than the best pretrained strategy."""
    if gap >= 0:
        return "yes (from_scratch at least as accurate)"
    if n_pairs < 2 or math.isnan(p_value):
        return "inconclusive (fewer than 2 paired seeds)"
    if p_value >= ALPHA:
        return f"possible (from_scratch not significantly worse, p={p_value:.3g})"
    return f"no (pretraining helps, p={p_value:.3g})"


def _advice(family: str, amount: str, means: dict[str, float], by_seed: pd.Series) -> dict:
    """Seed 004's advice for this family and amount, and whether the measurement agrees."""
    advice = ADVICE.get((family, amount))
    if advice is None:
        return {"advice": "", "advice_strategy": "", "best_strategy": best_strategy(means),
                "advice_verdict": "not in the table (middle amount or no family)"}
    text, strategy = advice
    best = best_strategy(means)
    ran = strategy in means
    if best == strategy or not ran:
        n_paired = int(by_seed.loc[best].notna().sum()) if best == strategy else 0
        p_value = math.nan
    else:
        test = paired_by_key(by_seed.loc[best], by_seed.loc[strategy])
        n_paired, p_value = test.n_pairs, test.p_value
    verdict = strategy_verdict(strategy, best, ran, n_paired, p_value)
    return {"advice": text, "advice_strategy": strategy, "best_strategy": best,
            "advice_verdict": f"{verdict.label} ({verdict.reason})"}
