"""The one rule behind every strategy verdict of the report.

The measured best strategy of a cell is chosen on validation accuracy (the data the tuning
saw), never on the test scores it is then judged by. The claim under test (the guideline's
strategy, or training from scratch) is judged on test: the per-seed paired difference
``claim - best`` and its 95% Student-t interval, against a practical margin (a suite's
``margin``, one accuracy point by default). It **agrees** when the whole interval lies above
``-margin`` (worse by less than the margin, with 95% confidence), **disagrees** when the whole
interval lies below it, and is **inconclusive** otherwise, with the number of seeds that
would resolve it at the observed mean and spread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.results.stats import paired_by_key

AGREES, DISAGREES, INCONCLUSIVE, NOT_TESTED = "agrees", "disagrees", "inconclusive", "not tested"
MARGIN = 0.01
"""The default practical margin: one accuracy point."""
CONFIDENCE = 0.95
MAX_SEEDS = 100
"""Beyond this many seeds a verdict is called unresolvable at the observed spread."""


@dataclass(frozen=True)
class Verdict:
    """A verdict with the reason shown beside it."""

    label: str
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.label} ({self.reason})" if self.reason else self.label


@dataclass(frozen=True)
class Difference:
    """The paired per-seed difference ``claim - best`` of test accuracy.

    Attributes:
        n: paired seeds.
        mean: mean difference (accuracy, not points).
        low, high: its 95% Student-t interval (equal to ``mean`` with one pair or no spread).
        p_value: two-sided paired t-test of no difference (NaN with fewer than 2 pairs).
        effect: Cohen's d_z, the mean over the standard deviation of the differences (NaN
            with fewer than 2 pairs or no spread).
        sd: standard deviation of the differences (NaN with fewer than 2 pairs).
    """

    n: int
    mean: float
    low: float
    high: float
    p_value: float
    effect: float
    sd: float


def difference(claim: pd.Series, best: pd.Series) -> Difference:
    """``claim - best`` over the seeds both have (series indexed by seed)."""
    shared = claim.index.intersection(best.index)
    diffs = (claim.loc[shared] - best.loc[shared]).to_numpy(dtype=float)
    diffs = diffs[np.isfinite(diffs)]
    n = int(diffs.size)
    if n == 0:
        return Difference(0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
    mean = float(diffs.mean())
    if n < 2:
        return Difference(1, mean, mean, mean, math.nan, math.nan, math.nan)
    sd = float(diffs.std(ddof=1))
    half = _half_width(sd, n)
    effect = mean / sd if sd > 0 else math.nan
    p_value = paired_by_key(claim.loc[shared], best.loc[shared]).p_value
    return Difference(n, mean, mean - half, mean + half, p_value, effect, sd)


def cell_difference(by_seed: pd.Series, claim: str, best: str) -> Difference:
    """:func:`difference` of two strategies of a cell's per-(strategy, seed) test accuracy;
    no pairs when ``claim`` is ``best`` or did not run."""
    strategies = by_seed.index.get_level_values(0)
    if claim == best or claim not in strategies:
        return difference(pd.Series(dtype=float), pd.Series(dtype=float))
    return difference(by_seed.loc[claim], by_seed.loc[best])


def _half_width(sd: float, n: int) -> float:
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * sd / math.sqrt(n)) if sd > 0 else 0.0


def seeds_to_resolve(diff: Difference, margin: float) -> int | None:
    """The fewest seeds whose interval would clear ``-margin`` at the observed mean and
    spread; None when even :data:`MAX_SEEDS` would not (the mean sits on the margin)."""
    gap = abs(diff.mean + margin)
    for n in range(max(2, diff.n), MAX_SEEDS + 1):
        if _half_width(diff.sd, n) < gap:
            return n
    return None


def judge(claim: str, best: str, claim_ran: bool, diff: Difference, margin: float) -> Verdict:
    """The verdict on ``claim`` against the measured ``best`` (see the module docstring).

    Args:
        claim: the strategy the claim names (the guideline's, or from_scratch).
        best: the strategy with the highest mean validation accuracy.
        claim_ran: whether ``claim`` has test results in the cell.
        diff: :func:`difference` of ``claim`` minus ``best`` on test.
        margin: the practical margin, as accuracy (0.01 = one point).
    """
    if not claim_ran:
        return Verdict(INCONCLUSIVE, f"{claim} not run")
    if claim == best:
        return Verdict(AGREES, f"{claim} is the best on validation")
    if diff.n < 2:
        return Verdict(INCONCLUSIVE, f"{diff.n} paired seed(s): no interval")
    shown = f"{points(diff.mean)} [{points(diff.low)}, {points(diff.high)}] points"
    bound = f"-{margin * 100:g}"
    if diff.low > -margin:
        return Verdict(AGREES, f"{shown}, all above {bound}")
    if diff.high < -margin:
        return Verdict(DISAGREES, f"{shown}, all below {bound}")
    needed = seeds_to_resolve(diff, margin)
    more = f"about {needed} seeds would resolve it" if needed else (
        f"more than {MAX_SEEDS} seeds would be needed")
    return Verdict(INCONCLUSIVE, f"{shown} straddles {bound}; {more}")


def points_text(margin: float) -> str:
    """A margin in words: ``1 point``, ``0.5 points``."""
    value = margin * 100
    return f"{value:g} point" + ("" if value == 1 else "s")


def points(value: float) -> str:
    """An accuracy difference in points, signed: ``-1.2``, ``+0.4``."""
    return f"{value * 100:+.1f}"


def best_on_validation(cell: pd.DataFrame) -> str:
    """The strategy of a cell's ``final.csv`` rows with the highest mean validation
    accuracy over seeds; a tie goes to the first by name."""
    means = cell.groupby("strategy", sort=True)["val_acc"].mean().fillna(-math.inf)
    return str(max(sorted(means.index), key=means.__getitem__))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (NaN ones left out and kept NaN)."""
    values = np.asarray(p_values, dtype=float)
    finite = np.flatnonzero(np.isfinite(values))
    adjusted = np.full(values.shape, math.nan)
    order = finite[np.argsort(values[finite], kind="stable")]
    running, m = 0.0, len(order)
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted.tolist()
