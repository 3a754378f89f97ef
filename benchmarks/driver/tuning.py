"""Optuna studies: one per grid cell, seeded TPE, a pruner, an exact trial budget.

The only module that uses Optuna's study machinery for the tuning trials (storages open in
:mod:`benchmarks.driver.storage`, trial owners and heartbeats live in
:mod:`benchmarks.driver.liveness`, the final seeds' study in
:mod:`benchmarks.driver.seed_study`); the training loop sees a plain
``report(epoch, metrics)`` callable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from benchmarks.driver.liveness import heartbeat, mark_alive
from benchmarks.driver.storage import Storage
from benchmarks.messages import disk_full
from benchmarks.suite.model import PrunerConfig

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

optuna.logging.set_verbosity(optuna.logging.WARNING)


class TrialSkipped(Exception):
    """The sampled configuration cannot run on this backbone; the study goes on."""


class RowLost(Exception):
    """A trial stopped without its row in ``trials.csv`` (writing it or the tracker failed:
    a full disk, a lost server); it is failed and run again once, never left counting toward
    the budget with no row (a cell then done in the storage but not in its rows)."""


def make_pruner(cfg: PrunerConfig, max_epochs: int | None = None) -> optuna.pruners.BasePruner:
    """The pruner named in the suite (``max_epochs``: the cell's budget, Hyperband's largest
    resource; Optuna infers it from the first trial when None)."""
    if cfg.type == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=cfg.n_startup_trials, n_warmup_steps=cfg.n_warmup_steps
        )
    if cfg.type == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=cfg.min_resource, reduction_factor=cfg.reduction_factor)
    if cfg.type == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=cfg.min_resource, max_resource=max_epochs or "auto",
            reduction_factor=cfg.reduction_factor)
    if cfg.type == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner '{cfg.type}': it must be one of median, successive_halving, "
                     "hyperband, none, but is unknown.")


def open_study(
    name: str, storage: Storage | None, sampler_seed: int,
    pruner: PrunerConfig, n_trials: int, max_epochs: int | None = None,
) -> optuna.Study:
    """Create or load the study of one cell (maximising validation accuracy); a new study
    records its sampler's seed as the user attribute :data:`SAMPLER_SEED`."""
    sampler = optuna.samplers.TPESampler(
        seed=sampler_seed, n_startup_trials=max(1, min(10, n_trials // 2))
    )
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=sampler,
        pruner=make_pruner(pruner, max_epochs),
        direction="maximize", load_if_exists=True,
    )
    if not study.get_trials(deepcopy=False) and SAMPLER_SEED not in study.user_attrs:
        study.set_user_attr(SAMPLER_SEED, sampler_seed)
    return study


SAMPLER_SEED = "ftbench.sampler_seed"
"""User attribute of a study: the seed of its TPE sampler (studies of an older ftbench have
none; they were seeded with the suite's ``sampler_seed``)."""


def enqueue_default(study: optuna.Study, params: dict[str, Any]) -> None:
    """Make the guideline default trial 0 of a new study (no-op once the study has trials)."""
    if not study.get_trials(deepcopy=False):
        study.enqueue_trial(params, user_attrs={"is_default": True}, skip_if_exists=True)


VOID = "ftbench.void"
"""User attribute of a trial that does not count toward the budget (over budget, or
interrupted and retried); its text says why."""
RETRY_OF = "ftbench.retry_of"


LOST = "ftbench.rows_lost"
"""User attribute of a study: the numbers of its finished trials that have no row in
``trials.csv`` (the run stopped between Optuna recording one and its row being written).
They do not count toward the budget and are never the best; :func:`retry_lost` runs each
first try again."""


def counts(trial: optuna.trial.FrozenTrial, lost: frozenset[int] = frozenset()) -> bool:
    """Whether a trial uses the cell's budget: every started trial except void ones and the
    ``lost`` (an enqueued trial waiting for a worker has not used it yet)."""
    return (trial.state != TrialState.WAITING and VOID not in trial.user_attrs
            and trial.number not in lost)


def lost_trials(study: optuna.Study) -> frozenset[int]:
    """The trials of ``study`` that have no row (:data:`LOST`)."""
    return frozenset(study.user_attrs.get(LOST, ()))


def retry_lost(study: optuna.Study, with_rows: Callable[[], set[int]]) -> list[int]:
    """Record each finished, counting trial whose number is not in ``with_rows()`` (the
    cell's trial numbers in ``trials.csv``) as lost, and enqueue its parameters again once
    (not a retry's: a new trial is sampled in its place). Returns the numbers newly lost.

    The rows are read after the trials: a trial finished by then has its row written
    already (a worker writes the row, then tells Optuna), unless it was lost.
    """
    lost = lost_trials(study)
    finished = [t for t in study.get_trials(deepcopy=False, states=FINISHED)
                if counts(t, lost)]
    rows = with_rows() if finished else set()
    new = [t for t in finished if t.number not in rows]
    if new:
        study.set_user_attr(LOST, sorted(lost | {t.number for t in new}))
    for trial in new:
        if RETRY_OF not in trial.user_attrs:
            study.enqueue_trial(trial.params, user_attrs={RETRY_OF: trial.number,
                                                          "is_default": is_default(trial)})
    return [t.number for t in new]


def remaining_trials(study: optuna.Study, n_trials: int) -> int:
    """How many trials are still owed to reach the cell's budget."""
    lost = lost_trials(study)
    return max(0, n_trials - sum(counts(t, lost) for t in study.get_trials(deepcopy=False)))


def ask_within_budget(study: optuna.Study, n_trials: int,
                      before: Callable[[], None] = lambda: None) -> optuna.Trial | None:
    """A new trial if the budget is not used up, else None; ``before()`` is called just
    before it is asked for (``--stop-after``'s check, which raises to stop the run there).

    Trial numbers are given out in order by the storage, also to concurrent workers, so a
    trial is within the budget when fewer than ``n_trials`` counting trials have a smaller
    number; one that is not is closed at once as void, and never runs. So is a second copy
    of the guideline default, enqueued by two workers opening a new study at once.
    """
    while remaining_trials(study, n_trials) > 0:
        before()
        trial = study.ask()
        mark_alive(trial)  # at once: another worker must never take it for an abandoned one
        earlier = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number]
        if sum(counts(t, lost_trials(study)) for t in earlier) >= n_trials:
            void(study, trial, "over budget: another worker took the last trial")
            return None
        if not _first_default(trial, earlier):
            void(study, trial, "guideline default enqueued twice; an earlier copy runs it")
            continue
        return trial
    return None


def _first_default(trial: optuna.Trial, earlier: list[optuna.trial.FrozenTrial]) -> bool:
    """False for a copy of the guideline default (not a retry) that an earlier one precedes."""
    def original(t: Any) -> bool:
        return is_default(t) and retry_of(t) is None

    return not original(trial) or not any(original(t) for t in earlier)


def optimize(study: optuna.Study, objective: Callable[[Any], float], n_trials: int,
             before: Callable[[], None] = lambda: None) -> None:
    """Run the owed trials, one at a time, until the budget is used (by any worker);
    ``before()`` is called before each is asked for (:func:`ask_within_budget`).

    Pruned, skipped and failed trials are told to the study and the loop goes on (one that
    lost its row, :class:`RowLost`, is run again once); an interrupt (KeyboardInterrupt,
    SystemExit) fails the trial and stops the run, and so does a full disk (a row lost for
    it is run again by the next run).
    """
    while (trial := ask_within_budget(study, n_trials, before)) is not None:
        try:
            with heartbeat(trial):
                value = objective(trial)
        except optuna.TrialPruned:
            tell(study, trial, state=TrialState.PRUNED)
        except RowLost as exc:
            if not (frozen := study._storage.get_trial(trial._trial_id)).state.is_finished():
                fail_and_retry(study, frozen)
            if disk_full(exc):  # every next trial would lose its row alike: stop the run
                raise
        except Exception as exc:
            tell(study, trial, state=TrialState.FAIL)
            if disk_full(exc):
                raise
        except BaseException:  # interrupted: not the configuration's fault, so retried
            fail_and_retry(study, study._storage.get_trial(trial._trial_id))
            raise
        else:
            tell(study, trial, value)


def tell(study: optuna.Study, trial: optuna.Trial, value: float | None = None,
         state: TrialState | None = None) -> bool:
    """``study.tell``, unless another worker has closed the trial meanwhile (judged it
    abandoned: no heartbeat from this host for ``--stale-after`` seconds). Then its row is in
    the results already, its retry runs elsewhere, and this returns False."""
    if study._storage.get_trial(trial._trial_id).state.is_finished():
        return False
    study.tell(trial, value, state=state)
    return True


def fail(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Close a trial whose process is gone as failed."""
    study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def fail_and_retry(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
    """Close an interrupted trial as failed; enqueue its parameters again once.

    A retry that is interrupted too keeps counting as a failed trial. Returns whether a
    retry was enqueued.
    """
    storage, retried = study._storage, RETRY_OF not in trial.user_attrs
    if retried:
        storage.set_trial_user_attr(trial._trial_id, VOID, "interrupted; retried once")
    fail(study, trial)
    if retried:
        attrs = {RETRY_OF: trial.number, "is_default": is_default(trial)}
        study.enqueue_trial(trial.params, user_attrs=attrs)
    return retried


def pruning_report(trial: optuna.Trial, last_epoch: int) -> Callable[[int, float], None]:
    """A ``report(epoch, val_acc)`` that forwards to Optuna and raises when pruned.

    Never after ``last_epoch``, the epoch budget: a trial that has trained it all is
    complete, and pruning it would only drop a finished result from the best choice and the
    good-LR range.
    """

    def report(epoch: int, value: float) -> None:
        trial.report(value, step=epoch)
        if epoch < last_epoch and trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch} (val_acc={value:.4f})")

    return report


def is_pruned(exc: BaseException) -> bool:
    """Whether an exception is Optuna's pruning signal."""
    return isinstance(exc, optuna.TrialPruned)


def is_default(trial: Any) -> bool:
    """Whether a trial is the enqueued guideline default."""
    return bool(trial.user_attrs.get("is_default", False))


def retry_of(trial: Any) -> int | None:
    """The number of the interrupted trial that ``trial`` retries, if any."""
    value = trial.user_attrs.get(RETRY_OF)
    return None if value is None else int(value)


def best_config(study: optuna.Study) -> tuple[int, dict[str, Any]] | None:
    """Number and full strategy configuration of the best complete trial (ties: earliest),
    of those with a row (:data:`LOST`).

    Returns None if no trial completed.
    """
    lost = lost_trials(study)
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.number not in lost]
    if not complete:
        return None
    best = max(complete, key=lambda t: (t.value, -t.number))
    return best.number, dict(best.user_attrs["config"])


def void(study: optuna.Study, trial: optuna.Trial, why: str) -> None:
    """Close ``trial`` as failed and not counting, saying why."""
    trial.set_user_attr(VOID, why)
    study.tell(trial, state=TrialState.FAIL)


def running_elsewhere(study: optuna.Study) -> bool:
    """Whether trials of ``study`` are still running (in other workers, since this one is
    between trials)."""
    return bool(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
