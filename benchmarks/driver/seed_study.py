"""The study of a cell's final seeds: each seed is one enqueued trial, claimed atomically by
the storage, so that no two workers re-run the same seed and a seed offered twice runs once.
With :mod:`benchmarks.driver.tuning`, the only module that uses Optuna's study machinery for
the grid's trials."""

from __future__ import annotations

from collections.abc import Callable

import optuna
from optuna.trial import TrialState

from benchmarks.driver.liveness import mark_alive
from benchmarks.driver.storage import Storage
from benchmarks.driver.tuning import void


def open_finals(cell_key: str, storage: Storage | None) -> optuna.Study:
    """The study whose trials are a cell's final re-runs, one per seed: enqueued seeds are
    claimed atomically by the storage, so no two workers re-run the same seed."""
    return optuna.create_study(study_name=f"{cell_key}/final", storage=storage,
                               direction="maximize", load_if_exists=True)


SEED = "ftbench.seed"


def offer_seeds(finals: optuna.Study, seeds: list[int]) -> None:
    """Enqueue every seed in ``seeds`` not already waiting or running.

    Two workers offering at once may both enqueue a seed (the check and the enqueue are two
    storage calls); :func:`claim_seed` voids the later copy, so it never runs twice.
    """
    active = {t.user_attrs.get(SEED) for t in finals.get_trials(
        deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING))}
    for seed in seeds:
        if seed not in active:
            finals.enqueue_trial({}, user_attrs={SEED: seed})


def claim_seed(finals: optuna.Study,
               before: Callable[[], None] = lambda: None) -> tuple[optuna.Trial, int] | None:
    """The next waiting seed, claimed by this worker; None when none is left. ``before()`` is
    called just before a waiting seed is claimed (``--stop-after``'s check: one that raises
    leaves the seed waiting for the next run).

    Copies of a seed offered twice are voided here: waiting trials are claimed in the order
    of their numbers, so when this one is claimed every copy with a smaller number has been
    claimed already, and if one of those is running or complete this one is the duplicate.
    """
    while finals.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        before()
        trial = finals.ask()
        mark_alive(trial)
        seed = trial.user_attrs.get(SEED)
        if seed is None:  # another worker claimed the last one first
            void(finals, trial, "no seed left to claim")
            return None
        if _taken_before(finals, trial.number, seed):
            void(finals, trial, f"seed {seed} offered twice; an earlier copy runs it")
            continue
        return trial, int(seed)
    return None


def _taken_before(finals: optuna.Study, number: int, seed: int) -> bool:
    """Whether a copy of ``seed`` numbered below ``number`` is running or complete."""
    return any(t.number < number and t.user_attrs.get(SEED) == seed
               for t in finals.get_trials(deepcopy=False,
                                          states=(TrialState.RUNNING, TrialState.COMPLETE)))
