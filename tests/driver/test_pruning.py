"""The pruning report: Optuna's pruner may stop a trial after any epoch but its last; a
trial that trained its whole epoch budget is complete."""

from __future__ import annotations

import optuna
import pytest

from benchmarks.driver import tuning


def _study() -> optuna.Study:
    """A study whose pruner prunes every value below 1.0."""
    return optuna.create_study(direction="maximize",
                               pruner=optuna.pruners.ThresholdPruner(lower=1.0))


def test_a_trial_is_pruned_before_its_last_epoch():
    report = tuning.pruning_report(_study().ask(), last_epoch=3)
    with pytest.raises(optuna.TrialPruned, match="pruned at epoch 2"):
        report(2, 0.5)


def test_a_trial_that_trained_its_whole_budget_is_not_pruned():
    study = _study()
    trial = study.ask()
    report = tuning.pruning_report(trial, last_epoch=2)
    report(2, 0.5)  # the pruner would prune it (0.5 < 1.0): it ends COMPLETE instead
    assert trial.should_prune()
    assert study.trials[0].intermediate_values == {2: 0.5}
