"""``ftbench compare``'s findings: two runs' guideline verdicts side by side, what differs
between the runs, and whether each finding holds in both."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from benchmarks.cli.commands import main
from report.findings import cause_text, compare_findings
from report.inputs import FINAL_REQUIRED, read_results_csv

REGIME = {250: "<1k", 2500: "1k-10k", 20000: ">10k"}
STRATEGIES = ("feature_extraction", "partial_freeze", "full_finetune")


def _run(folder: Path, winners: dict[tuple[str, int], str], input_size: int,
         budget: dict[int, int], device: str = "cpu", seeds=(0, 1, 2)) -> Path:
    """A results folder of one backbone whose best strategy per (dataset, size) is
    ``winners``'; the others score 10 points lower on validation and test, at every seed."""
    rows = [{"backbone": "lite0", "dataset": dataset, "n_train": n, "regime": REGIME[n],
             "strategy": s, "seed": seed, "lr": 1e-3 if s == best else 1e-4,
             "val_acc": 0.8 if s == best else 0.7,
             "test_acc": (0.8 if s == best else 0.7) + 0.01 * seed,
             "best_epoch": 3, "max_epochs": budget[n]}
            for (dataset, n), best in winners.items() for s in STRATEGIES for seed in seeds]
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "final.csv", index=False)
    suite = {"name": folder.name,
             "backbones": [{"name": "timm:tf_efficientnet_lite0", "input_size": input_size,
                            "as": "lite0"}],
             "datasets": [{"name": "imagefolder", "as": "cifar5"},
                          {"name": "fashion_mnist", "as": "fashion"}],
             "sizes": sorted(budget), "trials": 5, "seeds": list(seeds), "margin": 0.01,
             "epochs_by_size": budget,
             "train": {"max_epochs": 10, "device": device,
                       "precision": "fp32" if device == "cpu" else "bf16"}}
    (folder / "suite.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    (folder / "run.json").write_text(json.dumps({"input_size": {"lite0": input_size}}))
    return folder


@pytest.fixture
def runs(tmp_path) -> tuple[Path, Path]:
    """A at 64 px on a CPU; B at 224 px on a GPU with a larger budget at 2,500 images, a
    different winner at 250 and 2,500 cifar5 images, and other fashion cells."""
    a = _run(tmp_path / "a", {("cifar5", 250): "feature_extraction",
                              ("cifar5", 2500): "full_finetune",
                              ("cifar5", 20000): "full_finetune",
                              ("fashion", 250): "partial_freeze"},
             64, {250: 30, 2500: 10, 20000: 2})
    final = pd.read_csv(a / "final.csv")
    final.assign(trial=final["seed"], status="COMPLETE", reason="").to_csv(a / "trials.csv",
                                                                          index=False)
    b = _run(tmp_path / "b", {("cifar5", 250): "partial_freeze",
                              ("cifar5", 2500): "partial_freeze",
                              ("cifar5", 20000): "full_finetune",
                              ("fashion", 2500): "full_finetune"},
             224, {250: 30, 2500: 20, 20000: 2}, device="cuda")
    return a, b


def _findings(a: Path, b: Path):
    return compare_findings(*((f, read_results_csv(f / "final.csv", FINAL_REQUIRED))
                              for f in (a, b)))


def test_each_regime_and_dataset_is_side_by_side_with_its_finding(runs):
    findings = _findings(*runs)
    table = findings.table.set_index(["regime", "dataset"])
    low = table.loc[("<1k", "cifar5")]
    assert (low.a_best, low.a_lr, low.a_epochs, low.a_verdict) == (
        "feature_extraction", "1e-3", "3.0 / 30", "agrees")
    assert (low.b_best, low.b_lr, low.b_epochs, low.b_verdict) == (
        "partial_freeze", "1e-3", "3.0 / 30", "disagrees")
    assert (low.finding, low.cause) == ("differs", "likely cause: input size 64 vs 224 px")
    mid = table.loc[("1k-10k", "cifar5")]
    assert mid.finding == "differs" and mid.cause == (
        "depends on resolution or budget (input size 64 vs 224 px, epoch budget 10 vs 20 "
        "epochs)")
    high = table.loc[(">10k", "cifar5")]
    assert (high.finding, high.cause, high.changed) == ("holds in both", "",
                                                        "input size 64 vs 224 px")
    assert table.loc[("<1k", "fashion")].finding == "only in A"
    assert table.loc[("1k-10k", "fashion")].finding == "only in B"
    assert list(findings.table["regime"]) == ["<1k", "<1k", "1k-10k", "1k-10k", ">10k"]


def test_the_lines_say_what_holds_what_differs_and_why(runs):
    lines = _findings(*runs).lines
    assert lines[0] == ("cifar5 at <1k: differs: A best feature_extraction (guideline verdict "
                        "agrees), B best partial_freeze (disagrees); likely cause: input size "
                        "64 vs 224 px")
    assert lines[1] == ("fashion at <1k: only in A (A: best partial_freeze, guideline verdict "
                        "disagrees)")
    assert lines[-1] == ("cifar5 at >10k: holds in both: best full_finetune, guideline "
                         "verdict agrees; survives input size 64 vs 224 px")


def test_the_differences_table_names_what_differs_between_the_runs(runs):
    diff = _findings(*runs).differences.set_index("setting")
    assert set(diff.index[diff["differs"] == "yes"]) == {
        "input size (px)", "epoch budget by size", "device, precision"}
    assert diff.loc["input size (px)", "A"] == "lite0: 64"
    assert diff.loc["epoch budget by size", "B"] == "250: 30, 2500: 20, 20000: 2; else 10"
    assert tuple(diff.loc["device, precision", ["A", "B"]]) == ("cpu, fp32", "cuda, bf16")
    assert diff.loc["backbones", "A"] == "lite0 (timm:tf_efficientnet_lite0)"
    assert (diff.loc["trials per cell", "B"], diff.loc["seeds", "B"]) == ("5", "0, 1, 2")


@pytest.mark.parametrize(("changes", "expected"), [
    ([], "no recorded setting differs: chance or the code"),
    ([("seeds", "[0] vs [1]")], "likely cause: seeds [0] vs [1]"),
    ([("trials", "5 vs 9 per cell"), ("seeds", "[0] vs [1]")],
     "depends on resolution or budget (trials 5 vs 9 per cell, seeds [0] vs [1])"),
    ([("backbone", "a vs b"), ("input size", "64 vs 224 px")],
     ("several settings differ (backbone a vs b, input size 64 vs 224 px); no one cause can "
      "be named")),
])
def test_the_cause_is_named_only_when_one_setting_differs(changes, expected):
    assert cause_text(changes) == expected


def test_the_command_prints_and_writes_the_findings(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(runs[0]), str(runs[1]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cells in both" in printed  # the cell-by-cell comparison, as before
    assert "## Guideline findings, A and B side by side" in printed
    assert "- cifar5 at >10k: holds in both" in printed
    assert "| input size (px) | lite0: 64 | lite0: 224 | yes |" in printed
    assert pd.read_csv(out / "findings.csv")["finding"].tolist() == [
        "differs", "only in A", "differs", "only in B", "holds in both"]
    assert "| epoch budget by size |" in (out / "differences.md").read_text()
    assert "- cifar5 at <1k: differs" in (out / "findings.md").read_text()
    assert "## What differs between the runs" in (out / "compare.md").read_text()


def test_out_that_names_a_file_is_refused_before_anything_is_printed(runs, tmp_path, capsys):
    afile = tmp_path / "cmp.md"
    afile.write_text("keep me\n")
    for out in (afile, afile / "sub"):
        assert main(["compare", str(runs[0]), str(runs[1]), "--out", str(out)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1
        assert f"--out '{out}': it must be a folder (or a new path), but" in captured.err
        assert "Traceback" not in captured.err
    assert afile.read_text() == "keep me\n"


def test_a_change_of_seeds_alone_is_named_as_the_cause(tmp_path):
    a = _run(tmp_path / "a", {("cifar5", 250): "feature_extraction"}, 64, {250: 30})
    b = _run(tmp_path / "b", {("cifar5", 250): "full_finetune"}, 64, {250: 30},
             seeds=(0, 1, 2, 3))
    row = _findings(a, b).table.iloc[0]
    assert (row.finding, row.cause) == ("differs",
                                        "likely cause: seeds [0, 1, 2] vs [0, 1, 2, 3]")
