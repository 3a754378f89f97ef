"""Seeds within reach: which verdicts a suite's ``seeds_within_reach`` adds final seeds to.

A strategy verdict (:mod:`benchmarks.results.verdicts`) is made per backbone x dataset x
training size: the best strategy on validation against the guideline's strategy for that
size's regime, by the per-seed paired difference on test. With the first ``seeds`` it may be
*inconclusive* while a few more seeds would settle it at the observed mean and spread. Such a
verdict is **within reach** when ``seeds_to_resolve`` is at most ``len(seeds) +
len(seeds_within_reach)``; then every strategy of that backbone x dataset x size gets the extra
seeds, so all its strategies stay paired on the same seeds.

The choice reads the rows of the first seeds only, so every process and every resume makes the
same one; and a size that has a row of an extra seed stays chosen (a later ``--extend`` of
``seeds`` cannot leave its extra seeds half run). It is a two-stage design: the extra seeds go
where the first ones came out close, which the report says beside those verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from benchmarks.results.csv_check import csv_float
from benchmarks.results.guideline_table import guideline_for
from benchmarks.results.verdicts import (
    INCONCLUSIVE,
    best_on_validation,
    cell_difference,
    judge,
    seeds_to_resolve,
)

Size = tuple[str, str, int]
"""A verdict's place: (backbone, dataset, n_train)."""
SIZE_COLUMNS = ["backbone", "dataset", "n_train"]


def within_reach(final: pd.DataFrame, strategies: Sequence[str], seeds: Sequence[int],
                 extra: Sequence[int], margin: float) -> set[Size]:
    """The sizes whose strategies get the ``extra`` seeds.

    Args:
        final: rows of ``final.csv`` (columns backbone, dataset, n_train, regime, strategy,
            seed, val_acc, test_acc), any seeds.
        strategies: the suite's strategies: a size is judged once each has every seed of
            ``seeds``.
        seeds: the suite's ``seeds``, the first stage.
        extra: the suite's ``seeds_within_reach``.
        margin: the suite's verdict margin (accuracy).
    """
    if not extra or final.empty:
        return set()
    rows = final.dropna(subset=["n_train", "seed"])
    rows = rows.assign(n_train=rows["n_train"].astype(int), seed=rows["seed"].astype(int))
    started = {_size(key) for key, _ in rows[rows["seed"].isin(extra)].groupby(SIZE_COLUMNS)}
    first = rows[rows["seed"].isin(seeds)]
    judged = {_size(key) for key, group in first.groupby(SIZE_COLUMNS)
              if _complete(group, strategies, seeds)
              and _is_within_reach(group, len(seeds) + len(extra), margin)}
    return started | judged


def text_rows_frame(rows: Sequence[dict[str, str]]) -> pd.DataFrame:
    """``final.csv`` rows read as text (as ``ftbench status`` reads them) as the frame
    :func:`within_reach` takes; a number that cannot be read becomes NaN."""
    return pd.DataFrame({column: [parse(row.get(column)) for row in rows]
                         for column, parse in _COLUMNS.items()}).astype(
        {"n_train": float, "seed": float, "val_acc": float, "test_acc": float})


def _text(value: str | None) -> str:
    return value or ""


_COLUMNS = {"backbone": _text, "dataset": _text, "n_train": csv_float, "regime": _text,
            "strategy": _text, "seed": csv_float, "val_acc": csv_float, "test_acc": csv_float}
"""The final.csv columns the choice reads, each with its parser."""


def _size(key: tuple) -> Size:
    backbone, dataset, n_train = key
    return str(backbone), str(dataset), int(n_train)


def _complete(group: pd.DataFrame, strategies: Sequence[str], seeds: Sequence[int]) -> bool:
    """Every strategy has a row for every seed of the first stage."""
    have = set(zip(group["strategy"], group["seed"], strict=True))
    return all((s, seed) in have for s in strategies for seed in seeds)


def _is_within_reach(group: pd.DataFrame, most_seeds: int, margin: float) -> bool:
    """The size's guideline verdict is inconclusive and ``most_seeds`` would resolve it."""
    guide = guideline_for(str(group["regime"].iloc[0]))
    if guide is None or guide.strategy not in set(group["strategy"]):
        return False
    best = best_on_validation(group)
    by_seed = group.groupby(["strategy", "seed"])["test_acc"].mean()
    diff = cell_difference(by_seed, guide.strategy, best)
    if judge(guide.strategy, best, True, diff, margin).label != INCONCLUSIVE or diff.n < 2:
        return False
    needed = seeds_to_resolve(diff, margin)
    return needed is not None and needed <= most_seeds
