"""Optuna studies: one per grid cell, seeded TPE, a pruner, an exact trial budget.

The only module that imports Optuna's study machinery; the training loop sees a plain
``report(epoch, metrics)`` callable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from benchmarks.suite import PrunerConfig

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

optuna.logging.set_verbosity(optuna.logging.WARNING)


class TrialSkipped(Exception):
    """The sampled configuration cannot run on this backbone; the study goes on."""


def make_pruner(cfg: PrunerConfig) -> optuna.pruners.BasePruner:
    """The pruner named in the suite."""
    if cfg.type == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=cfg.n_startup_trials, n_warmup_steps=cfg.n_warmup_steps
        )
    if cfg.type == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if cfg.type == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(
        f"pruner '{cfg.type}': it must be one of median, hyperband, none, but is unknown."
    )


Storage = optuna.storages.BaseStorage | str
"""An Optuna storage object, or a database URL Optuna opens itself."""


def make_storage(spec: str) -> Storage:
    """An Optuna storage from a URL (``sqlite:///``, ``postgresql://``, ...) or a journal path.

    A path ending in ``.journal`` is an append-only journal file: safe for several processes
    on one machine, and much faster than SQLite for the many small writes of pruning.
    """
    if spec.endswith(".journal"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(spec))
    return spec


def open_study(
    name: str, storage: Storage | None, sampler_seed: int,
    pruner: PrunerConfig, n_trials: int,
) -> optuna.Study:
    """Create or load the study of one cell (maximising validation accuracy)."""
    sampler = optuna.samplers.TPESampler(
        seed=sampler_seed, n_startup_trials=max(1, min(10, n_trials // 2))
    )
    return optuna.create_study(
        study_name=name, storage=storage, sampler=sampler, pruner=make_pruner(pruner),
        direction="maximize", load_if_exists=True,
    )


def enqueue_default(study: optuna.Study, params: dict[str, Any]) -> None:
    """Make the guideline default trial 0 of a new study (no-op once the study has trials)."""
    if not study.get_trials(deepcopy=False):
        study.enqueue_trial(params, user_attrs={"is_default": True})


def remaining_trials(study: optuna.Study, n_trials: int) -> int:
    """How many trials are still owed to reach the cell's budget."""
    done = study.get_trials(deepcopy=False, states=FINISHED)
    return max(0, n_trials - len(done))


def optimize(study: optuna.Study, objective: Callable[[Any], float], n_trials: int) -> None:
    """Run the owed trials; skipped and failed ones are recorded and the study goes on."""
    owed = remaining_trials(study, n_trials)
    if owed:
        study.optimize(objective, n_trials=owed, catch=(Exception,))


def pruning_report(trial: optuna.Trial) -> Callable[[int, float], None]:
    """A ``report(epoch, val_acc)`` that forwards to Optuna and raises when pruned."""

    def report(epoch: int, value: float) -> None:
        trial.report(value, step=epoch)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch} (val_acc={value:.4f})")

    return report


def is_pruned(exc: BaseException) -> bool:
    """Whether an exception is Optuna's pruning signal."""
    return isinstance(exc, optuna.TrialPruned)


def is_default(trial: Any) -> bool:
    """Whether a trial is the enqueued guideline default."""
    return bool(trial.user_attrs.get("is_default", False))


def best_config(study: optuna.Study) -> tuple[int, dict[str, Any]] | None:
    """Number and full strategy configuration of the best complete trial (ties: earliest).

    Returns None if no trial completed.
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    best = max(complete, key=lambda t: (t.value, -t.number))
    return best.number, dict(best.user_attrs["config"])
