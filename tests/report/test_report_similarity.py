"""The data-size x similarity table (the tutorials' second claim) and negative-transfer flags,
judged by the margin rule of benchmarks.results.verdicts."""

from __future__ import annotations

import pandas as pd
import pytest

from report.similarity import similarity_table


def _final(family: str, regime: str, accs: dict[str, list[float]], n_train: int = 100):
    return pd.DataFrame([
        {"dataset": f"d_{family}", "backbone": "b", "family": family, "n_train": n_train,
         "regime": regime, "strategy": strategy, "seed": seed, "test_acc": acc,
         "val_acc": acc}
        for strategy, values in accs.items() for seed, acc in enumerate(values)])


def _one(frame: pd.DataFrame) -> pd.Series:
    table = similarity_table(frame)
    assert len(table) == 1
    return table.iloc[0]


def test_pretraining_that_helps_is_no_negative_transfer_and_near_little_advice_agrees():
    row = _one(_final("near", "<1k", {"feature_extraction": [0.80, 0.82, 0.81],
                                      "full_finetune": [0.70, 0.72, 0.69],
                                      "from_scratch": [0.10, 0.12, 0.11]}))
    assert row.amount == "little" and row.best_pretrained == "feature_extraction"
    assert row.negative_transfer.startswith("no (pretraining helps")
    assert row.advice_strategy == "feature_extraction"
    assert row.advice_verdict.startswith("agrees (feature_extraction is the best on validation")


def test_scratch_at_least_as_good_is_negative_transfer_and_far_much_advice_agrees():
    row = _one(_final("far", ">10k", {"full_finetune": [0.90, 0.91, 0.92],
                                      "from_scratch": [0.93, 0.92, 0.94]}, n_train=20000))
    assert row.amount == "much" and row.scratch_minus_pretrained == pytest.approx(0.02)
    assert row.negative_transfer.startswith("yes")
    assert row.advice_strategy == "from_scratch" and row.best_strategy == "from_scratch"
    assert row.advice_verdict.startswith("agrees")


def test_scratch_lower_with_a_wide_interval_is_inconclusive_not_possible_transfer():
    row = _one(_final("far", "<1k", {"partial_freeze": [0.70, 0.50, 0.90],
                                     "from_scratch": [0.80, 0.30, 0.85]}))
    assert row.negative_transfer.startswith("inconclusive: -5.0 [")
    assert "seeds" in row.negative_transfer and row.diff_low < -0.01 < row.diff_high


def test_far_little_advice_disagrees_when_partial_freezing_is_significantly_worse():
    row = _one(_final("far", "<1k", {"partial_freeze": [0.50, 0.52, 0.51],
                                     "feature_extraction": [0.80, 0.83, 0.81],
                                     "from_scratch": [0.2, 0.21, 0.22]}))
    assert row.advice_strategy == "partial_freeze" and row.best_strategy == "feature_extraction"
    assert row.advice_verdict.startswith("disagrees")


def test_without_from_scratch_negative_transfer_is_not_measured():
    row = _one(_final("near", "1k-10k", {"full_finetune": [0.9, 0.8]}))
    assert row.negative_transfer.startswith("not measured")
    assert row.amount == "middle" and row.advice_verdict.startswith("not in the table")


def test_the_report_has_the_similarity_section_and_csv(tmp_path):
    from report import build_report

    frame = pd.concat([
        _final("near", "<1k", {"feature_extraction": [0.8, 0.82, 0.81],
                               "from_scratch": [0.1, 0.12, 0.11]}),
        _final("far", ">10k", {"full_finetune": [0.9, 0.91, 0.92],
                               "from_scratch": [0.93, 0.92, 0.94]}, n_train=20000)])
    frame = frame.assign(suite="s", test_macro_f1=frame.test_acc, best_epoch=3, max_epochs=8,
                         val_acc=frame.test_acc)
    trials = frame.rename(columns={"seed": "trial"}).assign(
        status="COMPLETE", reason="", lr=1e-3, is_default=False)
    frame.to_csv(tmp_path / "final.csv", index=False)
    trials.to_csv(tmp_path / "trials.csv", index=False)
    markdown = build_report(tmp_path).read_text()
    assert "## 5. Data size x domain similarity, and negative transfer" in markdown
    table = pd.read_csv(tmp_path / "report" / "similarity_table.csv")
    assert {"negative_transfer", "advice_verdict"} <= set(table.columns) and len(table) > 0
