"""timing_caveats.csv: paused seconds come off train_time_s, contended seeds are named, and a
bad row is one error line."""

import pandas as pd
import pytest

from report.plot_data import cost_points
from report.timing import apply_timing_caveats, caveat_text, read_timing_caveats


def _final():
    rows = [("ff", 0, 100.0, "a"), ("ff", 1, 60.0, "b"), ("fs", 0, 500.0, "c"),
            ("fs", 1, 90.0, "d")]
    frame = pd.DataFrame(rows, columns=["strategy", "seed", "train_time_s", "mlflow_run_id"])
    return frame.assign(dataset="d", backbone="b", n_train=250, test_acc=0.5,
                        trainable_params=10)


def _write(folder, body):
    (folder / "timing_caveats.csv").write_text("mlflow_run_id,run,cause,paused_s\n" + body)


def test_no_file_means_no_caveats(tmp_path):
    assert read_timing_caveats(tmp_path) is None
    final = apply_timing_caveats(_final(), None)
    assert final["train_time_s"].tolist() == [100.0, 60.0, 500.0, 90.0]
    assert not final["time_contended"].any() and caveat_text(final, None) == ""


def test_pauses_are_subtracted_and_contended_seeds_counted(tmp_path):
    _write(tmp_path, "a,final seed 0,paused,40\nc,final seed 0,contended,\n"
                     "zz,trial 3,contended,\n")
    caveats = read_timing_caveats(tmp_path)
    final = apply_timing_caveats(_final(), caveats)
    assert final["train_time_s"].tolist() == [60.0, 60.0, 500.0, 90.0]
    assert final["time_contended"].tolist() == [False, False, True, False]
    points = cost_points(final).set_index("strategy")
    assert points.loc["ff", "train_time_s"] == 60.0  # mean of the corrected seeds
    assert points["contended_seeds"].to_dict() == {"ff": 0, "fs": 1}
    text = caveat_text(final, caveats)
    assert "1 seed(s) ran while the process was paused" in text
    assert "1 seed(s) shared the CPU" in text and "d/n250/fs" in text
    assert "d/n250/ff" not in text  # the trial row 'zz' is not a final seed


@pytest.mark.parametrize(("body", "message"), [
    ("a,final seed 0,paused,40\nb,final seed 1,sleepy,\n",
     "line 3: cause must be one of paused, contended, but got 'sleepy'"),
    ("a,final seed 0,paused,\n", "line 2: a paused row needs paused_s"),
    ("a,final seed 0,paused,-3\n", "line 2: a paused row needs paused_s"),
])
def test_a_bad_row_is_named(tmp_path, body, message):
    _write(tmp_path, body)
    with pytest.raises(ValueError, match=message):
        read_timing_caveats(tmp_path)


def test_a_missing_column_is_named(tmp_path):
    (tmp_path / "timing_caveats.csv").write_text("mlflow_run_id,cause\na,contended\n")
    with pytest.raises(ValueError, match=r"got no \['paused_s'\]"):
        read_timing_caveats(tmp_path)

