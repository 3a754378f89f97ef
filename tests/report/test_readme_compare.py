"""The README's ``ftbench compare`` transcript is what compare prints today for the published
``results/imagenet_cpu`` against the modified copy the README describes (224 px, cuda/bf16,
10 epochs at the two largest sizes, two validation accuracies raised, fashion's 20,000-image
rows gone), so the transcript cannot go stale when the folder or the code changes; and
that a bad margin in such a copy's suite.yaml stops report and compare alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.cli.commands import main

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "results" / "imagenet_cpu"
INTRO = "prints, after the cell-by-cell table:"


def modified_copy(src: Path, dst: Path) -> Path:
    """``src``'s tables and settings, changed as the README says (B of its transcript)."""
    dst.mkdir(parents=True)
    for name in ("plan.json", "fingerprint.json", "backbones.csv"):
        shutil.copy(src / name, dst / name)
    suite = yaml.safe_load((src / "suite.yaml").read_text())
    suite["backbones"][0]["input_size"] = 224
    suite["train"].update(device="cuda", precision="bf16")
    suite["epochs_by_size"].update({10000: 10, 20000: 10})
    (dst / "suite.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    info = json.loads((src / "run.json").read_text())
    (dst / "run.json").write_text(json.dumps({**info, "input_size": {"lite0": 224}}))
    final, trials = (pd.read_csv(src / f"{name}.csv") for name in ("final", "trials"))
    final.loc[final.n_train >= 10000, "max_epochs"] = 10
    for dataset, n, strategy, points in (("cifar5", 250, "feature_extraction", 10),
                                         ("fashion", 10000, "partial_freeze", 3)):
        rows = (final.dataset == dataset) & (final.n_train == n) & (final.strategy == strategy)
        final.loc[rows, "val_acc"] += points / 100
    for name, table in (("final", final), ("trials", trials)):
        gone = (table.dataset == "fashion") & (table.n_train == 20000)
        table[~gone].to_csv(dst / f"{name}.csv", index=False)
    return dst


def readme_transcript() -> list[str]:
    """The lines of the README's compare transcript (its text block after :data:`INTRO`)."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index(INTRO):].split("```")[1]
    return [line.strip() for line in block.splitlines()[1:] if line.strip()]


def test_the_readme_s_compare_transcript_is_what_compare_prints(tmp_path, capsys):
    other = modified_copy(PUBLISHED, tmp_path / "imagenet_224")
    assert main(["compare", str(PUBLISHED), str(other)]) == 0
    printed = {line.strip() for line in capsys.readouterr().out.splitlines()}
    lines = readme_transcript()
    assert len(lines) > 20 and "| regime | dataset | A best" in lines[0]
    assert [line for line in lines if line not in printed] == []


def test_a_bad_margin_in_suite_yaml_stops_report_and_compare_with_one_line(tmp_path, capsys):
    """The report and compare read a folder's suite.yaml once for its settings; its margin
    is still checked, and a bad one is one line and exit code 2, before anything is written."""
    bad = modified_copy(PUBLISHED, tmp_path / "bad")
    (bad / "suite.yaml").write_text(
        (bad / "suite.yaml").read_text().replace("margin: 0.01", "margin: 2"))
    for args in (["report", str(bad)], ["compare", str(PUBLISHED), str(bad)]):
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err, err
        assert err.endswith(f"suite.yaml '{bad / 'suite.yaml'}': margin must be a number in "
                            "(0, 0.5), but got 2. Fix it (0.01 = one accuracy point), or "
                            "delete the key."), err
    assert not (bad / "report").exists()
