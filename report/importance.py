"""Hyperparameter importances per cell, rebuilt from ``trials.csv`` alone with Optuna.

The report never reads the Optuna storage: each cell's COMPLETE trials are added to an
in-memory study with :func:`optuna.trial.create_trial`, over distributions inferred from the
values the trials took, and Optuna's fANOVA evaluator ranks the parameters that varied.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager

import optuna
import pandas as pd
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.importance import FanovaImportanceEvaluator

IMPORTANCE_COLUMNS = ["dataset", "backbone", "n_train", "strategy", "param", "importance",
                      "n_trials"]
CELL_KEYS = ["dataset", "backbone", "n_train", "strategy"]
MIN_TRIALS = 4
"""Fewest COMPLETE trials of a cell for its importances to be computed at all."""
EVALUATOR_SEED = 0
LOG_SPAN = 10.0
"""A positive float parameter spanning more than this factor is taken as log-scaled."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _distribution(values: list[object]) -> BaseDistribution | None:
    """The narrowest distribution holding ``values``; None when they do not vary."""
    if len({json.dumps(v, sort_keys=True) for v in values}) < 2:
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return IntDistribution(min(values), max(values))
    if all(_is_number(v) and math.isfinite(v) for v in values):
        low, high = float(min(values)), float(max(values))
        return FloatDistribution(low, high, log=low > 0 and high / low > LOG_SPAN)
    return CategoricalDistribution(sorted({json.dumps(v, sort_keys=True) for v in values}))


def _value(value: object, distribution: BaseDistribution) -> object:
    """A parameter value as its distribution holds it (non-numbers as JSON text)."""
    if isinstance(distribution, CategoricalDistribution):
        return json.dumps(value, sort_keys=True)
    return float(value) if isinstance(distribution, FloatDistribution) else value


def _distributions(configs: list[dict]) -> dict[str, BaseDistribution]:
    names = sorted({k for c in configs for k in c if all(k in d for d in configs)})
    found = {name: _distribution([c[name] for c in configs]) for name in names}
    return {name: dist for name, dist in found.items() if dist is not None}


@contextmanager
def _quiet_optuna():
    """Optuna's INFO lines ('A new study created in memory') are noise in a report build."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def cell_importances(configs: list[dict], values: list[float]) -> dict[str, float]:
    """fANOVA importances (normalised to sum 1) of the parameters that varied.

    Args:
        configs: Each trial's parameters (the ``params`` JSON of ``trials.csv``).
        values: Each trial's validation accuracy, aligned with ``configs``.

    Returns:
        Parameter name to importance; empty when no parameter varied, or when every trial
        scored the same (fANOVA has no variance to split).
    """
    distributions = _distributions(configs)
    if not distributions or len(set(values)) < 2:
        return {}
    with _quiet_optuna():
        study = optuna.create_study(direction="maximize")
        for config, value in zip(configs, values):
            params = {k: _value(config[k], d) for k, d in distributions.items()}
            study.add_trial(optuna.trial.create_trial(
                params=params, distributions=distributions, value=float(value)))
        evaluator = FanovaImportanceEvaluator(seed=EVALUATOR_SEED)
        return optuna.importance.get_param_importances(study, evaluator=evaluator)


def param_importances(trials: pd.DataFrame) -> pd.DataFrame:
    """Importances of every cell with at least :data:`MIN_TRIALS` COMPLETE trials.

    Args:
        trials: Rows of ``trials.csv``.

    Returns:
        Columns ``IMPORTANCE_COLUMNS``, one row per cell and varied parameter, sorted by
        cell and decreasing importance.
    """
    if "params" not in trials:  # hand-made or very old trials.csv
        return pd.DataFrame(columns=IMPORTANCE_COLUMNS)
    recorded = trials["params"].map(lambda p: isinstance(p, str) and p != "")
    done = trials[(trials["status"] == "COMPLETE") & trials["val_acc"].notna() & recorded]
    rows = []
    for key, cell in done.groupby(CELL_KEYS, sort=True):
        if len(cell) < MIN_TRIALS:
            continue
        configs = [json.loads(p) for p in cell["params"]]
        found = cell_importances(configs, cell["val_acc"].tolist())
        rows += [(*key, name, value, len(cell)) for name, value in found.items()]
    table = pd.DataFrame(rows, columns=IMPORTANCE_COLUMNS)
    return table.sort_values(CELL_KEYS + ["importance"], ascending=[True] * 4 + [False],
                             ignore_index=True)
