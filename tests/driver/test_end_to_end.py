"""A tiny suite through the CLI: files, their contents, MLflow runs, resume, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient

from benchmarks.cli.commands import main
from benchmarks.driver import run_info
from benchmarks.driver.seeding import cell_seed
from benchmarks.driver.storage import make_storage
from benchmarks.driver.tuning import SAMPLER_SEED
from benchmarks.results.tables import TABLES

TINY = """
name: tiny
backbones: [test_resnet]
datasets: [synth_far]
sizes: [40, 20]
strategies: [feature_extraction, partial_freeze, full_finetune, from_scratch]
trials: 2
seeds: [0, 1]
pretrain: {dataset: synth_near, epochs: 1, batch_size: 128}
train: {max_epochs: 2, batch_size: 16}
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    suite = root / "tiny.yaml"
    suite.write_text(TINY)
    args = [
        "run",
        str(suite),
        "--results-dir",
        str(root / "results"),
        "--cache-dir",
        str(root / "cache"),
        "--no-progress",
    ]
    assert main(args) == 0
    return root / "results" / "tiny", args


def test_trials_csv_has_one_row_per_trial(finished):
    out, _ = finished
    trials = pd.read_csv(out / "trials.csv")
    assert list(trials.columns) == TABLES["trials"]
    assert len(trials) == 2 * 4 * 2  # sizes x strategies x trials
    assert set(trials.status) <= {"COMPLETE", "PRUNED", "FAIL", "SKIPPED"}
    assert (trials.groupby(["n_train", "strategy"]).trial.nunique() == 2).all()
    assert trials[trials.trial == 0].is_default.all()
    assert set(trials.regime) == {"<1k"}
    fe = trials[trials.strategy == "feature_extraction"].trainable_params
    ft = trials[trials.strategy == "full_finetune"].trainable_params
    assert fe.max() < ft.min()


def test_final_csv_has_one_row_per_seed_with_test_scores(finished):
    out, _ = finished
    final = pd.read_csv(out / "final.csv")
    assert list(final.columns) == TABLES["final"]
    assert len(final) == 2 * 4 * 2  # sizes x strategies x seeds
    assert final.test_acc.between(0, 1).all() and final.test_macro_f1.between(0, 1).all()
    assert not final.duplicated(["n_train", "strategy", "seed"]).any()


def test_confusion_counts_of_each_final_seed_match_its_test_scores(finished):
    out, _ = finished
    final = pd.read_csv(out / "final.csv")
    confusion = pd.read_csv(out / "confusion.csv", keep_default_na=False)
    assert list(confusion.columns) == TABLES["confusion"]
    assert set(confusion.mlflow_run_id) == set(final.mlflow_run_id)
    assert (confusion["count"] > 0).all()
    for row in final.itertuples():
        mine = confusion[confusion.mlflow_run_id == row.mlflow_run_id]
        assert mine["count"].sum() == row.n_test
        correct = mine.loc[mine.true_idx == mine.pred_idx, "count"].sum()
        assert correct / row.n_test == pytest.approx(row.test_acc)
        assert not mine.duplicated(["true_idx", "pred_idx"]).any()
    names = confusion.groupby("true_idx").true_class.unique()
    assert all(len(n) == 1 and n[0] for n in names)  # one non-empty name per class index


def test_every_trial_is_an_mlflow_child_run_of_its_cell(finished):
    out, _ = finished
    trials = pd.read_csv(out / "trials.csv")
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    for run_id in trials.mlflow_run_id:
        run = client.get_run(run_id)
        assert run.info.status in {"FINISHED", "KILLED", "FAILED"}
        parent = client.get_run(run.data.tags["mlflow.parentRunId"])
        assert parent.data.tags["mlflow.runName"].startswith("test_resnet/synth_far/")
        assert "lr" in run.data.params
    some = trials[trials.status == "COMPLETE"].mlflow_run_id.iloc[0]
    history = client.get_metric_history(some, "val_acc")
    assert [m.step for m in history] == [1, 2]


def test_mlflow_runs_carry_their_cell_and_the_parent_its_summary(finished):
    out, _ = finished
    trials, final = pd.read_csv(out / "trials.csv"), pd.read_csv(out / "final.csv")
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    for row in pd.concat([trials, final]).itertuples():
        tags = client.get_run(row.mlflow_run_id).data.tags
        assert (tags["ftbench.dataset"], tags["ftbench.strategy"], tags["ftbench.n_train"],
                tags["ftbench.backbone"]) == (row.dataset, row.strategy, str(row.n_train),
                                              row.backbone)
    cell = final[(final.n_train == 40) & (final.strategy == "full_finetune")]
    parent = client.get_run(client.get_run(cell.mlflow_run_id.iloc[0]).data.tags[
        "mlflow.parentRunId"])
    assert parent.data.tags["ftbench.kind"] == "cell" and parent.info.status == "FINISHED"
    metrics = parent.data.metrics
    assert metrics["test_acc_mean"] == pytest.approx(cell.test_acc.mean())
    assert metrics["n_seeds"] == 2
    mine = trials[(trials.n_train == 40) & (trials.strategy == "full_finetune")
                  & (trials.status == "COMPLETE")]
    assert metrics["best_val_acc"] == pytest.approx(mine.val_acc.max())
    experiment = client.get_experiment(parent.info.experiment_id)
    assert experiment.artifact_location == (out / "mlartifacts").resolve().as_uri()


def test_report_and_provenance_are_written(finished):
    out, _ = finished
    html = (out / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html and "feature_extraction" in html
    assert (out / "report" / "report.md").exists()
    assert (out / "run.json").exists() and (out / "suite.yaml").exists()
    info = json.loads((out / "run.json").read_text())
    assert info["tuning"] == {"trials_per_cell": 2, "seeds": [0, 1], "sampler_seed": 0,
                              "cells": 2 * 4}
    assert info["hardware"]["cpus"] >= 1 and "git_commit" in info
    assert info["data_placement"] == {"device": "cpu", "free_mb": None, "workers": 1,
                                      "on_host": {}}


def test_running_again_resumes_without_new_rows(finished, monkeypatch):
    """The resume adds no row, and run.json keeps each invocation's time and commit; here
    the commit read at the end is made to differ (as if the tree changed during the run),
    and both are recorded: the start one is the code that ran."""
    out, args = finished
    before = [len(pd.read_csv(out / f"{t}.csv")) for t in ("trials", "final")]
    started = run_info.git_commit()
    monkeypatch.setattr(run_info, "git_commit", lambda: "feedbee")  # read at the end only
    assert main(args + ["--no-report"]) == 0
    assert [len(pd.read_csv(out / f"{t}.csv")) for t in ("trials", "final")] == before
    info = json.loads((out / "run.json").read_text())
    runs = info["runs"]
    assert len(runs) == 2 and all(r["total_time_s"] > 0 for r in runs)  # both invocations
    assert [r["git_commit"] for r in runs] == [started, started] == [info["git_commit"]] * 2
    assert "git_commit_at_end" not in runs[0]
    assert runs[1]["git_commit_at_end"] == info["git_commit_at_end"] == "feedbee"


def test_each_cell_s_sampler_has_its_own_seed_and_proposes_its_own_lr(finished):
    """Seeds from the suite's sampler_seed (0) and the cell's key, recorded in plan.json and
    the study; so the two sizes of a strategy, whose default trial 0 is the same, get
    different TPE proposals in trial 1 (one suite-wide seed proposed the same)."""
    out, _ = finished
    assert json.loads((out / "fingerprint.json").read_text())["sampler_seeds"] == "per_cell"
    plan = json.loads((out / "plan.json").read_text())
    seeds = {c["key"]: c["sampler_seed"] for c in plan["cells"]}
    assert plan["sampler_seeds"] == "per_cell" and len(set(seeds.values())) == 2 * 4
    assert seeds == {key: cell_seed(0, key) for key in seeds}
    storage = make_storage(str(out / "optuna.journal"))
    for key, seed in seeds.items():
        assert optuna.load_study(study_name=key, storage=storage).user_attrs[SAMPLER_SEED] == seed
    trials = pd.read_csv(out / "trials.csv")
    assert (trials[trials.trial == 0].groupby("strategy").lr.nunique() == 1).all()
    assert (trials[trials.trial == 1].groupby("strategy").lr.nunique() == 2).all()


def test_backbones_csv_names_the_exact_checkpoint(finished):
    import hashlib

    row = pd.read_csv(finished[0] / "backbones.csv").iloc[0]
    digest = hashlib.sha256(Path(row.checkpoint).read_bytes()).hexdigest()
    assert row.checkpoint_sha256 == digest


def test_every_trial_row_has_its_training_time(finished):
    trials = pd.read_csv(finished[0] / "trials.csv")
    assert trials.train_time_s.notna().all() and (trials.train_time_s > 0).all()


def test_unknown_suite_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.cli", "run", "nosuch"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "quickstart" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "bad,needle",
    [
        ("strategies: [feature_extration]", "Did you mean: feature_extraction"),
        ("datasets: [synth_nera]", "synth_near"),
        ("sizes: [100000]", "100000"),
        ("trails: 3", "Did you mean: trials"),
    ],
)
def test_bad_suites_fail_before_any_work(tmp_path, capsys, bad, needle):
    key = bad.split(":")[0]
    lines = [ln for ln in TINY.strip().splitlines() if not ln.startswith(key + ":")]
    suite = tmp_path / "bad.yaml"
    suite.write_text("\n".join(lines + [bad]) + "\n")
    code = main(["run", str(suite), "--results-dir", str(tmp_path / "r"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_impossible_configuration_is_skipped_with_its_reason(tmp_path, monkeypatch):
    from strategies import registry
    from strategies.freezing import FeatureExtraction

    class NeverFits(FeatureExtraction):
        name = "never_fits"

        def skip(self, ctx):
            return f"needs 99 blocks, the backbone has {ctx.n_blocks}"

    monkeypatch.setattr(registry, "_REGISTRY", {**registry._REGISTRY, "never_fits": NeverFits})
    suite = tmp_path / "skip.yaml"
    suite.write_text(TINY.replace("sizes: [40, 20]", "sizes: [20]")
                     .replace("[feature_extraction, partial_freeze, full_finetune, from_scratch]",
                              "[never_fits, feature_extraction]")
                     .replace("seeds: [0, 1]", "seeds: [0]"))
    args = ["run", str(suite), "--results-dir", str(tmp_path / "r"), "--cache-dir",
            str(tmp_path / "c"), "--no-progress", "--no-report"]
    assert main(args) == 0
    trials = pd.read_csv(tmp_path / "r" / "tiny" / "trials.csv")
    skipped = trials[trials.strategy == "never_fits"]
    assert list(skipped.status) == ["SKIPPED", "SKIPPED"]
    assert skipped.reason.str.contains("needs 99 blocks, the backbone has 5").all()
    assert skipped.train_time_s.notna().all()  # stopped trials record their time too
    assert (trials[trials.strategy == "feature_extraction"].status == "COMPLETE").all()
    final = pd.read_csv(tmp_path / "r" / "tiny" / "final.csv")
    assert list(final.strategy) == ["feature_extraction"]


def test_a_failed_final_seed_is_reported_and_the_suite_goes_on(tmp_path, monkeypatch, capsys):
    from benchmarks.driver import cells_run

    def broken(run, trial, config, seed, **kwargs):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(cells_run, "run_final", broken)
    suite = tmp_path / "fail.yaml"
    suite.write_text(TINY.replace("sizes: [40, 20]", "sizes: [20]")
                     .replace("[feature_extraction, partial_freeze, full_finetune, from_scratch]",
                              "[feature_extraction]"))
    args = ["run", str(suite), "--results-dir", str(tmp_path / "r"), "--cache-dir",
            str(tmp_path / "c"), "--no-progress", "--no-report"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert err.count("simulated crash") == 2  # one line per seed
    trials = pd.read_csv(tmp_path / "r" / "tiny" / "trials.csv")
    assert len(trials) == 2 and not (tmp_path / "r" / "tiny" / "final.csv").exists()
