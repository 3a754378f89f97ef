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
                             "epochs_run": 8,
                             "mlflow_run_id": f"final-{dataset}-{n_train}-{strategy}-{seed}"})
    return rows


CLASSES = ("cat", EVIL)


def _confusion_rows():
    """50 test images per class; the first class is right 40 times, the second 30 + seed."""
    rows = []
    for final in _final_rows():
        cell = {k: final[k] for k in ("suite", "backbone", "dataset", "family", "n_train",
                                      "regime", "strategy", "seed", "mlflow_run_id")}
        right = (40, 30 + final["seed"])
        for t in (0, 1):
            for p, count in ((t, right[t]), (1 - t, 50 - right[t])):
                rows.append({**cell, "true_idx": t, "true_class": CLASSES[t], "pred_idx": p,
                             "pred_class": CLASSES[p], "count": count})
    orphan = {**rows[0], "mlflow_run_id": "killed-before-its-final-row", "count": 999}
    return rows + [orphan]


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
                params = {"lr": lr, "k": trial % 3} if strategy == "partial_freeze" else {
                    "lr": lr}
                rows.append({**COMMON, "dataset": dataset, "family": family, "n_train": n_train,
                             "regime": regime, "strategy": strategy, "trial": trial,
                             "is_default": trial == 0, "status": status, "reason": reason,
                             "lr": lr, "params": json.dumps(params), "val_acc": val,
                             "best_epoch": 4, "epochs_run": 8})
    return rows


def _epoch_rows():
    keys = ["suite", "backbone", "dataset", "family", "n_train", "regime", "strategy", "trial"]
    return [{**{k: row[k] for k in keys}, "epoch": epoch, "train_loss": 1.0 / epoch,
             "val_acc": row["val_acc"] - 0.1 * (3 - epoch), "trainable_params": 1000}
            for row in _trial_rows() if row["status"] == "COMPLETE" for epoch in (1, 2, 3)]


NEW_FIGURES = ("tuning_gain", "accuracy_vs_cost", "best_curves", "param_importance",
               "confusion_best")
NEW_FILES = ("tuning_gain.csv", "cost_points.csv", "best_curves.csv", "param_importance.csv",
             "confusion_best.csv",
             *(f"figures/{name}.{ext}" for name in NEW_FIGURES for ext in ("png", "svg")))
NEW_HEADINGS = ["## 6. Gain of tuning over the guideline default", "## 7. Accuracy against cost",
                "## 8. Training curves of the best trials", "## 9. Hyperparameter importances",
                "## 10. Confusion matrices of the best models",
                "## 11. What the strategies do to the features", "## 12. Provenance"]


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("results")
    pd.DataFrame(_trial_rows()).to_csv(path / "trials.csv", index=False)
    pd.DataFrame(_epoch_rows()).to_csv(path / "epochs.csv", index=False)
    pd.DataFrame(_final_rows()).to_csv(path / "final.csv", index=False)
    pd.DataFrame(_confusion_rows()).to_csv(path / "confusion.csv", index=False)
    (path / "suite.yaml").write_text(f"name: quickstart\ndescription: '{EVIL}'\n")
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
                 "figures/val_acc_vs_lr.png", "figures/val_acc_vs_lr.svg", *NEW_FILES):
        assert (out / name).stat().st_size > 0, name
    for name in ("accuracy_by_size", *NEW_FIGURES):
        assert (out / f"figures/{name}.png").read_bytes().startswith(b"\x89PNG"), name


def test_html_embeds_every_figure_and_the_guideline_table(results_dir, built):
    page = (results_dir / "report" / "report.html").read_text()
    pngs = list((results_dir / "report" / "figures").glob("*.png"))
    assert page.count('<img src="data:image/png;base64,') == len(pngs) == 8
    assert "Guideline table vs measurement" in page
    assert "feature_extraction 0.7" in page and "paired t-test" in page
    assert "sizes are scaled by 0.1: regimes keep their full-size labels" in page


def test_malicious_names_only_escaped(results_dir, built):
    page = (results_dir / "report" / "report.html").read_text()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>" not in page
    markdown = built.read_text()
    outside_code = re.sub(r"^```.*?^```$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    assert "<script" not in outside_code.lower()  # in a fenced block CommonMark shows text
    assert "description: '<script>" in markdown.split("## 12. Provenance")[1]


def test_guideline_table_csv(results_dir, built):
    table = pd.read_csv(results_dir / "report" / "guideline_table.csv")
    assert len(table) == 3  # cifar-mini: <1k and 1k-10k; EVIL: <1k
    mini = table[(table.dataset == "cifar-mini") & (table.regime == "<1k")].iloc[0]
    assert (mini.n_train, mini.sizes_in_regime) == (200, 2)
    assert mini.best_strategy == "feature_extraction"
    assert mini.strategy_verdict == "agrees"
    assert mini.epochs_verdict == "not tested" and mini.epochs_reason == "budget 8 < 30"
    assert (mini.good_lr_min, mini.good_lr_max, mini.lr_verdict) == (
        3e-4, 3e-4, "inconclusive")  # one trial within the margin is not a range
    assert mini.lr_reason == "1 of 4 trials within 1 point of the best"
    mid = table[table.regime == "1k-10k"].iloc[0]
    assert mid.best_strategy == "feature_extraction" and mid.strategy_verdict == "disagrees"


def test_markdown_layout(built):
    text = built.read_text()
    headings = re.findall(r"^#+ .*$", text, flags=re.MULTILINE)
    assert headings[:3] == ["# ftbench report: quickstart",
                            "## The answer: the guideline table as measured",
                            "## 1. Guideline table vs measurement"]
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


def test_new_sections_follow_the_old_ones_with_figure_and_caption(built):
    text = built.read_text()
    headings = re.findall(r"^## .*$", text, flags=re.MULTILINE)
    assert headings[-8:] == ["## 5. Data size x domain similarity, and negative transfer",
                             *NEW_HEADINGS]
    files = [("tuning_gain", "tuning_gain"), ("accuracy_vs_cost", "cost_points"),
             ("best_curves", "best_curves"), ("param_importance", "param_importance"),
             ("confusion_best", "confusion_best")]
    for heading, (figure, table) in zip(NEW_HEADINGS, files):
        section = text.split(heading)[1].split("\n## ")[0]
        assert f"figures/{figure}.png" in section and f"{table}.csv" in section
    assert "validation accuracies" in text.split(NEW_HEADINGS[0])[1]


def test_new_plot_data_csvs(results_dir, built):
    out = results_dir / "report"
    gain = pd.read_csv(out / "tuning_gain.csv", keep_default_na=False, na_values=[""])
    assert len(gain) == len(CELLS) * len(STRATEGY_ACC)
    assert gain.default_val_acc.tolist() == pytest.approx([0.7] * len(gain))  # trial 0
    assert gain.gain.tolist() == pytest.approx([0.1] * len(gain))  # trial 2: 0.8
    cost = pd.read_csv(out / "cost_points.csv", keep_default_na=False, na_values=[""])
    assert len(cost) == len(gain)  # equal costs: only the most accurate strategy is optimal
    assert set(cost[cost.pareto_time].strategy) == set(cost[cost.pareto_params].strategy) == {
        "feature_extraction"}
    curves = pd.read_csv(out / "best_curves.csv", keep_default_na=False, na_values=[""])
    assert len(curves) == len(gain) * 3 and set(curves.trial) == {2}
    assert curves.val_acc.tolist()[:3] == pytest.approx([0.6, 0.7, 0.8])


def test_importances_only_for_the_strategy_that_tuned_two_parameters(results_dir, built):
    table = pd.read_csv(results_dir / "report" / "param_importance.csv")
    assert set(table.param) == {"lr", "k"}  # lr alone elsewhere: importance 1 by definition
    sums = table.groupby(["dataset", "n_train", "strategy"]).importance.sum().tolist()
    # EVIL's strategy has 3 COMPLETE trials per cell (one skipped, one failed): left out
    assert sums == pytest.approx([1.0] * len(CELLS) * (len(STRATEGY_ACC) - 1))
    assert EVIL not in set(table.strategy)
    assert set(table[table.param == "k"].strategy) == {"partial_freeze"}
    assert (table.n_trials == 4).all()  # trial 4 failed: 4 COMPLETE trials per cell


def test_confusion_of_the_best_strategy_summed_over_seeds(results_dir, built):
    table = pd.read_csv(results_dir / "report" / "confusion_best.csv", keep_default_na=False)
    assert set(table.strategy) == {"feature_extraction"}  # the most accurate in every cell
    assert len(table.groupby(["dataset", "n_train"])) == len(CELLS)
    cell = table[(table.dataset == "cifar-mini") & (table.n_train == 50)]
    counts = cell.set_index(["true_idx", "pred_idx"])["count"]
    assert counts[(0, 0)] == 3 * 40 and counts[(1, 1)] == 30 + 31 + 32  # the orphan ignored
    assert cell.groupby("true_idx").rate.sum().tolist() == pytest.approx([1.0, 1.0])
    assert (cell.n_seeds == 3).all()


def test_provenance_shows_the_suite_file_escaped_and_the_compute(results_dir, built):
    section = built.read_text().split("## 12. Provenance")[1]
    assert "training time of the 80 tuning trials: 120 s" in section
    assert "wall time of the run: 12 s" in section
    assert "name: quickstart" in section
    page = (results_dir / "report" / "report.html").read_text()
    assert "<details><summary>suite.yaml</summary><pre>name: quickstart" in page


@pytest.fixture(scope="module")
def bare_dir(results_dir, tmp_path_factory):
    """Only trials.csv and final.csv: no run.json, no epochs.csv (older results)."""
    path = tmp_path_factory.mktemp("bare")
    for name in ("trials.csv", "final.csv"):
        (path / name).write_bytes((results_dir / name).read_bytes())
    build_report(path)
    return path


def test_without_run_json(bare_dir):
    text = (bare_dir / "report" / "report.md").read_text()
    assert text.startswith("# ftbench report: quickstart")


def test_without_epochs_csv(bare_dir):
    out = bare_dir / "report"
    section = (out / "report.md").read_text().split(NEW_HEADINGS[2])[1]
    assert "no epochs.csv" in section
    curves = pd.read_csv(out / "best_curves.csv")
    assert curves.empty and curves.columns.tolist() == ["dataset", "backbone", "n_train",
                                                        "strategy", "trial", "epoch", "val_acc",
                                                        "train_loss"]
    assert (out / "figures/best_curves.png").stat().st_size > 0


@pytest.mark.parametrize("content", ["", "suite,dataset\n", "dataset,n_train\nd,3\n"])
def test_present_but_empty_or_malformed_epochs_csv(results_dir, tmp_path, content):
    for name in ("trials.csv", "final.csv"):
        (tmp_path / name).write_bytes((results_dir / name).read_bytes())
    (tmp_path / "epochs.csv").write_text(content)
    with pytest.raises(ValueError, match=r"epochs.csv.*ftbench run"):
        build_report(tmp_path)


def test_the_best_strategy_of_a_tie_is_the_one_sections_1_and_5_name():
    from report.confusion import best_strategies
    from report.similarity import similarity_table

    tie = pd.DataFrame(_final_rows())
    tie = tie[(tie.dataset == "cifar-mini") & (tie.n_train == 50)
              & tie.strategy.isin(["partial_freeze", "full_finetune"])].assign(test_acc=0.5,
                                                                                  val_acc=0.5)
    scratch = tie[tie.strategy == "full_finetune"].assign(strategy="from_scratch", test_acc=0.1,
                                                          val_acc=0.1)
    final = pd.concat([tie, scratch])
    assert best_strategies(final).strategy.tolist() == ["full_finetune"]  # first by name
    assert similarity_table(final).best_pretrained.tolist() == ["full_finetune"]


def test_a_dirty_tree_is_flagged_and_the_backbones_are_shown(tmp_path):
    from report.provenance import backbone_blocks, title_blocks
    from report.render import Paragraph, Table

    blocks = title_blocks({"suite": "s", "git_commit": "abc123+dirty"}, pd.DataFrame())
    assert any(isinstance(b, Paragraph) and b.text.startswith("NOT A CLEAN COMMIT")
               and "abc123+dirty" in b.text for b in blocks)
    clean = title_blocks({"suite": "s", "git_commit": "abc123"}, pd.DataFrame())
    assert not any(isinstance(b, Paragraph) and "CLEAN" in b.text for b in clean)
    earlier = {"suite": "s", "git_commit": "abc123", "runs": [{"git_commit": "0ld+dirty"}]}
    assert any(isinstance(b, Paragraph) and "0ld+dirty" in b.text and "CLEAN" in b.text
               for b in title_blocks(earlier, pd.DataFrame()))  # an earlier invocation's
    (tmp_path / "backbones.csv").write_text(
        "backbone,model,weights,checkpoint,checkpoint_sha256,input_size,params,gflops,"
        "infer_img_per_s,train_img_per_s\n"
        f"lite0,timm:tf_efficientnet_lite0,hub,/c.pt,{'ab' * 32},64,3377413,0.0627,835.2,"
        "129.9\n")
    table = next(b for b in backbone_blocks(tmp_path) if isinstance(b, Table)).frame
    row = table.iloc[0]
    assert (row["GFLOPs/image"], row["inference img/s"], row["checkpoint SHA-256"]) == (
        "0.0627", "835.2", "ab" * 8)
    assert "No backbones.csv" in backbone_blocks(tmp_path / "none")[0].text


def test_every_commit_of_a_run_s_invocations_is_named_once_in_order():
    """run.json records each invocation's commit at its start, and at its end where the tree
    changed under it; an older run.json records one commit (the last run's, at its end)."""
    from report.provenance import recorded_commits, run_facts

    info = {"git_commit": "c3", "git_commit_at_end": "c4",
            "runs": [{"git_commit": "c1"}, {"git_commit": "c1"}, {"total_time_s": 5.0},
                     {"git_commit": "c3", "git_commit_at_end": "c4"}]}
    assert recorded_commits(info) == ["c1", "c3", "c4"]
    assert "git commits c1, c3, c4, first to last" in " ".join(run_facts(info))
    older = {"git_commit": "c9", "runs": [{"total_time_s": 5.0}]}
    assert recorded_commits(older) == ["c9"]
    assert not any("first to last" in fact for fact in run_facts(older))
