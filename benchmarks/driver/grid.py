"""The grid of a suite: each dataset's sizes resolved to sample counts, and the cells in order."""

from __future__ import annotations

from benchmarks.data import SizeSpec, TaskData, make_splits, resolve_sizes
from benchmarks.driver.cell import Cell
from benchmarks.suite.model import Suite

Plan = dict[str, dict[SizeSpec, int]]
"""Per dataset key: each size as written in the suite -> training samples it means there."""


def resolve_plan(suite: Suite, tasks: dict[str, TaskData]) -> Plan:
    """Resolve every dataset's sizes against its pool; check that every split can be made.

    Raises:
        ValueError: a size that does not fit a pool, or two sizes meaning the same count.
    """
    plan = {}
    for ref in suite.datasets:
        labels = tasks[ref.key].train.labels
        where = f"suite '{suite.name}', dataset '{ref.key}'"
        try:
            resolved = resolve_sizes(suite.sizes_of(ref), labels, suite.val_fraction)
            make_splits(labels, list(resolved.values()), val_fraction=suite.val_fraction,
                        seed=suite.sampler_seed, class_names=tasks[ref.key].classes)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        _check_distinct(where, resolved)
        plan[ref.key] = resolved
    return plan


def _check_distinct(where: str, resolved: dict[SizeSpec, int]) -> None:
    """Two sizes that mean the same count would run the same cell twice."""
    seen: dict[int, SizeSpec] = {}
    for spec, n in resolved.items():
        if n in seen:
            raise ValueError(f"{where}: sizes '{seen[n].label}' and '{spec.label}' must differ, "
                             f"but both mean {n} training samples. Keep one of them.")
        seen[n] = spec


def make_all_splits(suite: Suite, tasks: dict[str, TaskData], plan: Plan) -> dict[str, dict]:
    """Per dataset key: ``{n_train: Split}``, nested and seeded with the sampler seed."""
    return {key: make_splits(tasks[key].train.labels, list(sizes.values()),
                             val_fraction=suite.val_fraction, seed=suite.sampler_seed)
            for key, sizes in plan.items()}


def cells(suite: Suite, plan: Plan) -> list[Cell]:
    """The grid in run order: backbone, dataset, size (increasing), strategy."""
    return [Cell(b.key, ref.key, n, s, spec) for b in suite.backbones for ref in suite.datasets
            for spec, n in sorted(plan[ref.key].items(), key=lambda item: item[1])
            for s in suite.strategies]

