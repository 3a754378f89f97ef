"""End-to-end tests of report.build_report on a small synthetic results directory."""

import json
import re

import pandas as pd
import pytest

from report import build_report

EVIL = "<script>alert(1)</script>"
STRATEGY_ACC = {"feature_extraction": 0.70, "partial_freeze": 0.66, "full_finetune": 0.60,
                EVIL: 0.30}
CELLS = [("cifar-mini", "near", 50, "<1k"), ("cifar-mini", "near", 200, "<1k"),
         ("cifar-mini", "near", 2000, "1k-10k"), (EVIL, "far", 200, "<1k")]
COMMON = {"suite": "quickstart", "backbone": "resnet18", "max_epochs": 8,
          "trainable_params": 1000, "train_time_s": 1.5, "mlflow_run_id": "abc"}


def _final_rows():
    rows = []
    for dataset, family, n_train, regime in CELLS:
        for k, (strategy, acc) in enumerate(STRATEGY_ACC.items()):
            for seed in range(3):
                rows.append({**COMMON, "dataset": dataset, "family": family, "n_train": n_train,
                             "regime": regime, "strategy": strategy, "seed": seed,
                             "lr": 3e-4, "params": json.dumps({"lr": 3e-4}),
                             "test_acc": acc + 0.01 * seed + n_train / 1e5 + 0.003 * k * seed,
                             "test_macro_f1": acc, "val_acc": acc, "best_epoch": 5 + seed % 2,
                             "epochs_run": 8})
    return rows


def _trial_rows():
    rows = []
    lrs = [1e-5, 1e-4, 3e-4, 1e-3, 1e-2]
    for dataset, family, n_train, regime in CELLS:
        for strategy in STRATEGY_ACC:
            for trial, lr in enumerate(lrs):
                status, reason, val = "COMPLETE", "", 0.8 - abs(trial - 2) * 0.05
                if trial == 4:
                    status, reason, val = "FAIL", "loss is NaN <b>", None
                if strategy == EVIL and trial == 3:
                    status, reason, val = "SKIPPED", f"needs {EVIL}", None
                rows.append({**COMMON, "dataset": dataset, "family": family, "n_train": n_train,
                             "regime": regime, "strategy": strategy, "trial": trial,
                             "is_default": trial == 0, "status": status, "reason": reason,
                             "lr": lr, "params": json.dumps({"lr": lr}), "val_acc": val,
                             "best_epoch": 4, "epochs_run": 8})
    return rows


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("results")
    pd.DataFrame(_trial_rows()).to_csv(path / "trials.csv", index=False)
    pd.DataFrame(_final_rows()).to_csv(path / "final.csv", index=False)
    run = {"suite": "quickstart", "size_scale": 0.1, "total_time_s": 12.5,
           "regime_note": "sizes are scaled by 0.1: regimes keep their full-size labels",
           "epochs_note": f"epochs capped at 8 {EVIL}", "versions": {"torch": "2.4"}}
    (path / "run.json").write_text(json.dumps(run))
    return path


@pytest.fixture(scope="module")
def built(results_dir):
    return build_report(results_dir)


def test_writes_all_outputs(results_dir, built):
    out = results_dir / "report"
    assert built == out / "report.md"
    for name in ("report.md", "report.html", "guideline_table.csv", "accuracy_by_size.csv",
                 "figures/accuracy_by_size.png", "figures/accuracy_by_size.svg",
                 "figures/val_acc_vs_lr.png", "figures/val_acc_vs_lr.svg"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "figures/accuracy_by_size.png").read_bytes().startswith(b"\x89PNG")


def test_html_embeds_every_figure_and_the_guideline_table(results_dir, built):
    page = (results_dir / "report" / "report.html").read_text()
    pngs = list((results_dir / "report" / "figures").glob("*.png"))
    assert page.count('<img src="data:image/png;base64,') == len(pngs) == 2
    assert "Guideline table vs measurement" in page
    assert "feature_extraction 0.7" in page and "paired t-test" in page
    assert "sizes are scaled by 0.1: regimes keep their full-size labels" in page


def test_malicious_names_only_escaped(results_dir, built):
    page = (results_dir / "report" / "report.html").read_text()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>" not in page
    markdown = built.read_text()
    assert "<script" not in markdown.lower()


def test_guideline_table_csv(results_dir, built):
    table = pd.read_csv(results_dir / "report" / "guideline_table.csv")
    assert len(table) == 3  # cifar-mini: <1k and 1k-10k; EVIL: <1k
    mini = table[(table.dataset == "cifar-mini") & (table.regime == "<1k")].iloc[0]
    assert (mini.n_train, mini.sizes_in_regime) == (200, 2)
    assert mini.best_strategy == "feature_extraction"
    assert mini.strategy_verdict == "agrees"
    assert mini.epochs_verdict == "not tested" and mini.epochs_reason == "budget 8 < 30"
    assert (mini.good_lr_min, mini.good_lr_max, mini.lr_verdict) == (3e-4, 3e-4, "agrees")
    mid = table[table.regime == "1k-10k"].iloc[0]
    assert mid.best_strategy == "feature_extraction" and mid.strategy_verdict == "disagrees"


def test_markdown_layout(built):
    text = built.read_text()
    headings = re.findall(r"^#+ .*$", text, flags=re.MULTILINE)
    assert headings[:2] == ["# ftbench report: quickstart", "## 1. Guideline table vs measurement"]
    assert "### Dataset cifar-mini (backbone resnet18, family near)" in headings
    assert headings.index("## 2. Accuracy by training-set size") < headings.index("## 4. Trials")
    assert "![" in text and "figures/accuracy_by_size.png" in text
    assert "| <1k | 200 (largest of 2) | feature_extraction |" in text
    assert "| FAIL | feature_extraction | loss is NaN &lt;b> | 4 |" in text


@pytest.mark.parametrize("name", ["trials.csv", "final.csv"])
@pytest.mark.parametrize("content", [None, "", "suite,dataset\n"])
def test_missing_or_empty_inputs(results_dir, tmp_path, name, content):
    for other in ("trials.csv", "final.csv"):
        (tmp_path / other).write_bytes((results_dir / other).read_bytes())
    (tmp_path / name).unlink()
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=rf"{name}.*ftbench run"):
        build_report(tmp_path)


def test_without_run_json(results_dir, tmp_path):
    for name in ("trials.csv", "final.csv"):
        (tmp_path / name).write_bytes((results_dir / name).read_bytes())
    text = build_report(tmp_path).read_text()
    assert text.startswith("# ftbench report: quickstart")
