"""The perf script's smoke mode runs and writes its table (numbers are not checked here)."""

from __future__ import annotations

import json

from benchmarks.perf import main


def test_the_perf_script_quick_mode_writes_its_table(tmp_path):
    rows = main(["--quick", "--only", "a,b,c", "--out", str(tmp_path)])
    assert {m.key for m in rows} == {"a", "b", "c"}
    assert all(m.value == m.value for m in rows)  # no NaN
    saved = json.loads((tmp_path / "perf.json").read_text())
    assert len(saved["measures"]) == len(rows) and "loadavg_before" in saved
    assert "| case | what | measured |" in (tmp_path / "summary.md").read_text()
    assert (tmp_path / "perf.csv").read_text().startswith("key,what,value")
