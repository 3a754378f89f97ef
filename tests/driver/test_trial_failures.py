"""A trial that diverges or runs out of memory fails with its reason; the study and the suite
go on. Failures are injected into the model a trial or final seed builds."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from mlflow import MlflowClient

from benchmarks.cli.commands import main
from benchmarks.driver import cell, final_run
from benchmarks.engine import memory

SUITE = """
name: fails
backbones: [test_resnet]
datasets: [synth_far]
sizes: [20]
strategies: [full_finetune]
trials: 3
seeds: [5, 6]
pretrain: {dataset: synth_near, epochs: 1, batch_size: 256}
train: {max_epochs: 2, batch_size: 16}
pruner: {type: none}
"""


def _nan(out):
    return out * float("nan")


def _inf(out):  # every class but 0 impossible: the loss of any other label is +inf
    return out.masked_fill(torch.arange(out.shape[1]) != 0, float("-inf"))


def _oom(out):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


FAULTS = {"nan": (_nan, "training loss became nan at step 0"),
          "inf": (_inf, "training loss became inf at step 0"),
          "oom": (_oom, "out of memory (CUDA out of memory. Tried to allocate 20.00 GiB)")}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One pretrained backbone for every test of this module."""
    folder = tmp_path_factory.mktemp("cache")
    assert main(["pretrain", "--dataset", "synth_near", "--epochs", "1", "--batch-size", "256",
                 "--cache-dir", str(folder)]) == 0
    return folder


def _inject(monkeypatch, target: int, fault) -> list:
    """Models built with seed ``target`` (a trial number or a final seed) apply ``fault`` to their
    output; returns the list of release_memory calls."""
    real, released = cell.build_model, []

    def build(run, seed):
        model = real(run, seed=seed)
        if seed == target:
            model.register_forward_hook(lambda module, args, out: fault(out))
        return model

    monkeypatch.setattr(cell, "build_model", build)  # tuning trials
    monkeypatch.setattr(final_run, "build_model", build)  # final seeds
    monkeypatch.setattr(cell, "release_memory", lambda: released.append("trial"))
    return released


def _run(tmp_path, cache) -> tuple[int, pd.DataFrame, MlflowClient]:
    (tmp_path / "fails.yaml").write_text(SUITE)
    code = main(["run", str(tmp_path / "fails.yaml"), "--results-dir", str(tmp_path / "r"),
                 "--cache-dir", str(cache), "--no-progress", "--no-report"])
    client = MlflowClient(f"sqlite:///{tmp_path / 'r' / 'fails' / 'mlflow.db'}")
    return code, pd.read_csv(tmp_path / "r" / "fails" / "trials.csv"), client


@pytest.mark.parametrize("fault", ["nan", pytest.param("inf", marks=pytest.mark.slow), "oom"])
def test_a_failing_trial_is_recorded_with_its_reason_and_the_study_goes_on(
        tmp_path, monkeypatch, cache, fault):
    released = _inject(monkeypatch, 1, FAULTS[fault][0])
    code, trials, client = _run(tmp_path, cache)
    assert code == 0
    failed = trials[trials.trial == 1].iloc[0]
    assert failed.status == "FAIL" and failed.reason.startswith(FAULTS[fault][1]), failed.reason
    assert "Traceback" not in failed.reason and "|" not in failed.reason  # no stack needed
    epochs = pd.read_csv(tmp_path / "r" / "fails" / "epochs.csv")
    assert 1 not in set(epochs.trial) and pd.isna(failed.epochs_run)  # stopped at once
    assert list(trials[trials.trial != 1].status) == ["COMPLETE", "COMPLETE"]
    assert len(trials) == 3  # the budget: a failed trial is not retried
    assert released == (["trial"] if fault == "oom" else [])
    run = client.get_run(failed.mlflow_run_id)
    assert run.info.status == "FAILED" and run.data.tags["ftbench.status"] == "FAIL"
    final = pd.read_csv(tmp_path / "r" / "fails" / "final.csv")
    assert sorted(final.seed) == [5, 6] and 1 not in set(final.trial)


@pytest.mark.parametrize("fault", [pytest.param("nan", marks=pytest.mark.slow), "oom"])
def test_a_final_seed_that_fails_is_left_out_and_the_suite_goes_on(
        tmp_path, monkeypatch, cache, capsys, fault):
    _inject(monkeypatch, 5, FAULTS[fault][0])
    code, trials, client = _run(tmp_path, cache)
    assert code == 0, capsys.readouterr().err
    warning = [ln for ln in capsys.readouterr().err.splitlines() if "final seed 5" in ln]
    assert len(warning) == 1 and FAULTS[fault][1] in warning[0]
    assert (trials.status == "COMPLETE").all()
    final = pd.read_csv(tmp_path / "r" / "fails" / "final.csv")
    assert list(final.seed) == [6]
    experiment = client.get_experiment_by_name("ftbench/fails").experiment_id
    runs = {r.data.tags["mlflow.runName"]: r.info.status for r in client.search_runs([experiment])}
    assert runs["final seed 5"] == "FAILED" and runs["final seed 6"] == "FINISHED"
    assert "RUNNING" not in runs.values()


def test_releasing_memory_empties_the_cuda_cache_where_there_is_one(monkeypatch):
    emptied = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    memory.release_memory()
    assert emptied == [True]
    assert memory.is_out_of_memory(torch.OutOfMemoryError("x"))
    assert not memory.is_out_of_memory(RuntimeError("CUDA out of memory"))


def _interrupt(out):
    raise KeyboardInterrupt


def test_ctrl_c_records_the_reason_the_readme_gives_and_a_rerun_retries_it(tmp_path, cache,
                                                                          monkeypatch):
    _inject(monkeypatch, 1, _interrupt)
    code, trials, _ = _run(tmp_path, cache)
    assert code == 130
    stopped = trials[trials.trial == 1].iloc[0]
    assert stopped.status == "FAIL"
    assert stopped.reason == ("interrupted: the run was stopped (KeyboardInterrupt); retried "
                              "once as a new trial")
    monkeypatch.undo()
    code, trials, _ = _run(tmp_path, cache)
    assert code == 0 and trials.retry_of.dropna().astype(int).tolist() == [1]
