"""Cosine annealing with warm restarts (train.schedule: cosine_restarts) against torch's."""

from __future__ import annotations

import pytest
import torch

from benchmarks.engine.schedule import lr_factor
from benchmarks.results.fingerprint import changed_keys
from benchmarks.suite.model import suite_from_dict


def test_restarts_match_torch_s_cosine_annealing_with_warm_restarts():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=1.0)
    torch_schedule = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        optimizer, T_0=5, T_mult=2)
    expected = []
    for _ in range(40):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        torch_schedule.step()
    ours = [lr_factor(step, 40, 0, restart_steps=5, restart_mult=2) for step in range(40)]
    assert ours == pytest.approx(expected, abs=1e-9)
    assert [s for s in range(1, 40) if ours[s] > ours[s - 1]] == [5, 15, 35]  # the restarts


def test_warm_up_comes_first_and_the_plain_cosine_is_unchanged():
    assert lr_factor(0, 20, 2, restart_steps=4) == pytest.approx(0.5)
    assert lr_factor(2, 20, 2, restart_steps=4) == pytest.approx(1.0)
    assert lr_factor(6, 20, 2, restart_steps=4) == pytest.approx(1.0)  # restart after 4 steps
    assert lr_factor(11, 20, 2) == pytest.approx(0.5)  # halfway through 18 steps


def test_a_suite_chooses_restarts_and_older_fingerprints_still_match():
    base = {"name": "s", "backbones": ["test_resnet"], "datasets": ["synth_far"],
            "sizes": [20], "strategies": ["feature_extraction"]}
    suite = suite_from_dict({**base, "train": {"schedule": "cosine_restarts",
                                               "restart_epochs": 3}})
    assert (suite.train.schedule, suite.train.restart_epochs, suite.train.restart_mult) == (
        "cosine_restarts", 3, 2)
    with pytest.raises(ValueError, match="schedule"):
        suite_from_dict({**base, "train": {"schedule": "step"}})
    old = {"settings": {"train": {"max_epochs": 8}}}
    same = {"settings": {"train": {"max_epochs": 8, "schedule": "cosine", "restart_epochs": 5,
                                   "restart_mult": 2}}}
    assert changed_keys(old, same) == []
    other = {"settings": {"train": {**same["settings"]["train"],
                                    "schedule": "cosine_restarts"}}}
    assert changed_keys(old, other) == ["settings.train.schedule"]
