"""Results tables read the same whatever line ends and byte-order mark a copy has: as ftbench
writes them (CRLF), as a spreadsheet or editor saves them (LF, CR, a UTF-8 BOM), or with every
line end doubled into CR CR LF by a tool that added a CR to each LF."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.results.csv_check import read_checked
from benchmarks.results.status import read_rows
from benchmarks.results.tables import ResultsWriter, read_tables

ROWS = [{"suite": "s", "backbone": "test_resnet", "dataset": "synth_far", "family": "far",
         "n_train": n, "size": str(n), "regime": "<1k", "strategy": "full_finetune", "seed": 0,
         "params": '{"lr": 0.01, "note": "a, b"}', "test_acc": 0.5 + n / 1000}
        for n in (20, 40)]
"""Two final.csv rows; ``params`` holds commas and quotes, so the writer quotes it."""

SAVED_AS = {
    "CRLF (as ftbench writes)": lambda b: b,
    "LF": lambda b: b.replace(b"\r\n", b"\n"),
    "CR": lambda b: b.replace(b"\r\n", b"\r"),
    "CR CR LF": lambda b: b.replace(b"\r\n", b"\r\r\n"),
    "UTF-8 BOM and CRLF": lambda b: b"\xef\xbb\xbf" + b,
    "UTF-8 BOM and LF": lambda b: b"\xef\xbb\xbf" + b.replace(b"\r\n", b"\n"),
    "a blank last line": lambda b: b + b"\r\n",
}


@pytest.fixture
def written(tmp_path) -> tuple[ResultsWriter, bytes]:
    writer = ResultsWriter(tmp_path / "s")
    writer.append_rows("final", ROWS)
    return writer, writer.path("final").read_bytes()


def test_ftbench_writes_crlf_rows(written):
    _, raw = written
    assert raw.count(b"\r\n") == 3 and raw.count(b"\n") == 3


@pytest.mark.parametrize("saved", SAVED_AS)
def test_a_table_saved_with_other_line_ends_reads_and_appends_as_written(written, saved):
    writer, raw = written
    expected = writer.read("final")
    path = writer.path("final")
    path.write_bytes(SAVED_AS[saved](raw))
    text, dropped = read_checked(path)
    assert text.rstrip("\n") == raw.decode().replace("\r\n", "\n").rstrip("\n")
    assert text.endswith("\n") and not dropped
    assert writer.read("final").equals(expected)
    assert read_tables(path.parent)["final"].equals(expected)  # what `ftbench run` reads
    rows, cut = read_rows(path)  # `ftbench status`
    assert [r["n_train"] for r in rows] == ["20", "40"] and cut == 0
    ResultsWriter(path.parent).append("final", {**ROWS[0], "seed": 1})
    assert writer.read("final")["seed"].tolist() == [0, 0, 1]


def test_a_damaged_row_is_named_by_its_line_in_the_file_whatever_its_line_ends(written):
    writer, raw = written
    path = writer.path("final")
    path.write_bytes(raw.replace(b"\r\n", b"\r\r\n") + b"s,test_resnet\r\r\n")
    with pytest.raises(ValueError, match=r"final.csv': line 4 must have 27 fields like the "
                                         r"header, but it has 2\."):
        read_checked(path)


def test_a_row_cut_short_is_still_refused(written, tmp_path: Path):
    writer, raw = written
    path = writer.path("final")
    path.write_bytes(raw.replace(b"\r\n", b"\n")[:-10])
    with pytest.raises(ValueError, match="line 3 must be a whole row, but it is cut short"):
        read_checked(path)
