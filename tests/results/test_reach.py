"""Which verdicts get a suite's seeds within reach (benchmarks.results.reach), on hand-made
final rows whose verdicts are known."""

from __future__ import annotations

import pandas as pd

from benchmarks.results.reach import text_rows_frame, within_reach
from benchmarks.results.verdicts import difference, seeds_to_resolve

STRATEGIES = ("feature_extraction", "full_finetune")  # the guideline's, and the best
NEAR = [-0.030, -0.020, -0.035]  # feature extraction minus full fine-tuning, per seed
FAR = [-0.020, 0.0, -0.030]


def _rows(diffs: list[float], n_train: int = 250, regime: str = "<1k",
          best_val: float = 0.9) -> pd.DataFrame:
    """Final rows of one size: full fine-tuning best on validation, feature extraction's
    test accuracy ``diffs`` away from it, seed by seed."""
    rows = []
    for seed, diff in enumerate(diffs):
        rows.append(_row(n_train, regime, "full_finetune", seed, best_val, 0.8))
        rows.append(_row(n_train, regime, "feature_extraction", seed, 0.7, 0.8 + diff))
    return pd.DataFrame(rows)


def _row(n_train: int, regime: str, strategy: str, seed: int, val: float,
         test: float) -> dict:
    return {"backbone": "lite0", "dataset": "cifar5", "n_train": n_train, "regime": regime,
            "strategy": strategy, "seed": seed, "val_acc": val, "test_acc": test}


def _choose(final: pd.DataFrame, extra=(3, 4)) -> set:
    return within_reach(final, STRATEGIES, (0, 1, 2), extra, 0.01)


def test_the_hand_made_differences_are_what_the_tests_say():
    best = pd.Series([0.8] * 3)
    near = difference(best + pd.Series(NEAR), best)
    far = difference(best + pd.Series(FAR), best)
    assert near.low < -0.01 < near.high and seeds_to_resolve(near, 0.01) == 4
    assert far.low < -0.01 < far.high and seeds_to_resolve(far, 0.01) == 23


def test_an_inconclusive_verdict_that_five_seeds_would_resolve_gets_them():
    assert _choose(_rows(NEAR)) == {("lite0", "cifar5", 250)}


def test_one_that_needs_more_seeds_than_the_suite_adds_does_not():
    assert _choose(_rows(FAR)) == set()
    assert _choose(_rows(FAR), extra=tuple(range(3, 23))) == {("lite0", "cifar5", 250)}


def test_a_verdict_that_agrees_or_disagrees_already_gets_none():
    agrees = _rows(NEAR, n_train=20000, regime=">10k")  # the guideline's is the best
    disagrees = _rows([-0.10, -0.11, -0.09])
    assert _choose(agrees) == set() and _choose(disagrees) == set()


def test_no_choice_before_every_strategy_has_every_first_seed():
    rows = _rows(NEAR)
    missing = rows[~((rows.strategy == "feature_extraction") & (rows.seed == 2))]
    assert _choose(missing) == set()


def test_a_size_with_a_row_of_an_extra_seed_stays_chosen():
    """Once begun, its extra seeds are finished even if more first seeds (``--extend``)
    would now judge it otherwise."""
    rows = pd.concat([_rows(FAR), pd.DataFrame([_row(250, "<1k", "full_finetune", 3,
                                                     0.9, 0.8)])])
    assert _choose(rows) == {("lite0", "cifar5", 250)}
    assert _choose(rows, extra=()) == set()


def test_the_extra_seeds_own_rows_do_not_change_the_choice():
    rows = _rows(NEAR + [+0.2, +0.2])  # seeds 3 and 4, far above: the first seeds decide
    assert _choose(rows) == {("lite0", "cifar5", 250)}


def test_rows_read_as_text_choose_the_same():
    rows = _rows(NEAR)
    text = [{k: str(v) for k, v in row.items()} for row in rows.to_dict("records")]
    text.append({**text[0], "seed": "", "test_acc": "oops"})  # unreadable: left out
    assert _choose(text_rows_frame(text)) == {("lite0", "cifar5", 250)}


def test_the_report_says_where_the_extra_seeds_ran_and_what_that_means(tmp_path):
    from report.guideline import reach_text
    from report.inputs import reach_seeds_of, read_suite_yaml

    def read_reach_seeds(path):
        return reach_seeds_of(read_suite_yaml(path))

    final = pd.concat([_rows(NEAR + [-0.02, -0.03]), _rows(FAR, n_train=2500, regime="1k-10k")])
    text = reach_text(final, (3, 4))
    assert text.startswith("Seeds 3, 4 ran, in every strategy, only where the first seeds "
                           "(0, 1, 2) left the strategy verdict inconclusive but within reach "
                           "of 5 seeds at their mean and spread (1 of them: lite0/cifar5/n250).")
    assert "not corrected for that choice" in text
    assert reach_text(final, ()) == "" and reach_text(_rows(NEAR), (3, 4)) == ""
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: x\nseeds_within_reach: [3, 4]\n")
    assert read_reach_seeds(suite) == (3, 4)
    suite.write_text("name: x\n")
    assert read_reach_seeds(suite) == () and read_reach_seeds(tmp_path / "none.yaml") == ()


def test_compare_lists_the_seeds_within_reach_beside_the_seeds(tmp_path):
    from report.run_settings import read_settings

    (tmp_path / "suite.yaml").write_text("name: x\nseeds: [0, 1, 2]\nseeds_within_reach: [3, 4]\n")
    assert read_settings(tmp_path).seeds == "0, 1, 2 (+ 3, 4 within reach)"
    (tmp_path / "suite.yaml").write_text("name: x\nseeds: [0, 1, 2]\n")
    assert read_settings(tmp_path).seeds == "0, 1, 2"
