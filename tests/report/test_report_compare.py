"""``ftbench compare A B`` and the report's tables exported for papers."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from benchmarks.cli.commands import main
from report.compare import compare_finals
from report.export import export_tables


def _final(cells: dict[tuple[str, int], list[float]], seeds=(0, 1, 2)) -> pd.DataFrame:
    return pd.DataFrame([{"backbone": "b", "dataset": "d", "n_train": n, "strategy": s,
                          "seed": seed, "test_acc": acc}
                         for (s, n), accs in cells.items() for seed, acc in zip(seeds, accs)])


def test_cells_of_both_are_paired_by_seed_and_the_others_listed():
    a = _final({("ft", 50): [0.80, 0.82, 0.81], ("fe", 50): [0.70, 0.71, 0.72],
                ("lp", 50): [0.5, 0.5, 0.5]})
    b = _final({("ft", 50): [0.85, 0.88, 0.86], ("fe", 50): [0.703, 0.712, 0.718],
                ("lora", 50): [0.6, 0.6, 0.6]})
    table = compare_finals(a, b).set_index("strategy")
    ft = table.loc["ft"]
    diffs = [0.05, 0.06, 0.05]
    half = stats.t.ppf(0.975, 2) * stats.tstd(diffs) / 3 ** 0.5
    assert ft["diff"] == pytest.approx(sum(diffs) / 3)
    assert (ft.diff_low, ft.diff_high) == pytest.approx((sum(diffs) / 3 - half,
                                                         sum(diffs) / 3 + half))
    assert ft.verdict == "B better" and table.loc["fe"].verdict == "within the margin"
    assert (table.loc["lp"].ran_in, table.loc["lora"].ran_in) == ("A only", "B only")
    assert table.loc["lp"].verdict == "" and table.loc["lora"].b_mean == pytest.approx(0.6)


def test_runs_without_shared_seeds_are_compared_as_independent_samples():
    a = _final({("ft", 50): [0.80, 0.82, 0.81]}, seeds=(0, 1, 2))
    b = _final({("ft", 50): [0.70, 0.71, 0.69]}, seeds=(3, 4, 5))
    row = compare_finals(a, b).iloc[0]
    welch = stats.ttest_ind([0.70, 0.71, 0.69], [0.80, 0.82, 0.81], equal_var=False)
    assert row.p_value == pytest.approx(welch.pvalue) and row.verdict == "B worse"


def test_the_command_prints_and_writes_the_comparison(tmp_path, capsys):
    for name, shift in (("a", 0.0), ("b", -0.05)):
        (tmp_path / name).mkdir()
        frame = _final({("ft", 50): [0.80, 0.82, 0.81]})
        frame.assign(test_acc=frame.test_acc + shift, val_acc=0.5, regime="<1k",
                     best_epoch=1, max_epochs=2).to_csv(tmp_path / name / "final.csv",
                                                        index=False)
    code = main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out",
                 str(tmp_path / "cmp")])
    out = capsys.readouterr().out
    assert code == 0 and "1 cells in both" in out and "1 B worse" in out
    assert "| b | d | 50 | ft | both |" in out
    assert pd.read_csv(tmp_path / "cmp" / "compare.csv").verdict.tolist() == ["B worse"]
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "nosuch")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nosuch" in err and "must exist" in err


def test_tables_export_to_latex_and_markdown(tmp_path):
    (tmp_path / "answer.csv").write_text("regime,guideline strategy,strategy agrees\n"
                                        "<1k,feature_extraction,1 of 2 (1 disagrees)\n")
    (tmp_path / "accuracy_by_size.csv").write_text("dataset,mean\nd_1,0.8123\n")
    written = export_tables(tmp_path, "latex")
    assert [p.name for p in written] == ["answer.tex", "accuracy_by_size.tex"]
    tex = written[0].read_text()
    assert "\\toprule" in tex and "feature\\_extraction" in tex and "\\bottomrule" in tex
    assert "0.812" in written[1].read_text()
    md = export_tables(tmp_path, "markdown")[0].read_text()
    assert md.startswith("| regime | guideline strategy | strategy agrees |")
    with pytest.raises(ValueError, match="latex, markdown"):
        export_tables(tmp_path, "docx")
