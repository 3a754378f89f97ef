"""A property of every command that reads a results folder: a damaged table (a value replaced
by NaN, text or a number out of its range, a repeated row) is one line and exit 2 for
``report``, ``status``, ``compare`` and ``run``, never a silently different answer; line ends
a spreadsheet or a tool changed give the same answer as the table ftbench wrote."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.cli.commands import main
from benchmarks.results.csv_check import AMOUNT, COUNT, FRACTION, KINDS, STATUS
from tests.conftest import TINY_SUITE, digest

BAD = {FRACTION: ["nan", "banana", "7.5", "-0.25", "inf"],
       COUNT: ["nan", "2.5", "-3", "many"],
       AMOUNT: ["nan", "-1", "fast"],
       STATUS: ["DONE", "nan", "complete!"]}
"""Values no column of each kind may hold."""


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """The tiny suite run to the end once; its suite file and cache beside ``results/``."""
    root = tmp_path_factory.mktemp("damaged")
    (root / "tiny.yaml").write_text(TINY_SUITE.replace("seeds: [0]", "seeds: [0, 1]"))
    assert main(["run", str(root / "tiny.yaml"), "--results-dir", str(root / "results"),
                 "--cache-dir", str(root / "cache"), "--no-progress", "--no-report"]) == 0
    return root


def _copy(finished: Path) -> Path:
    """A fresh copy of the finished folder that one example may damage."""
    root = Path(tempfile.mkdtemp(prefix="damaged-"))
    shutil.copytree(finished / "results", root / "results")
    (root / "cache").symlink_to(finished / "cache")
    shutil.copy(finished / "tiny.yaml", root / "tiny.yaml")
    return root


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


@st.composite
def damages(draw, finished: Path):
    """A table, one of its data lines, and a damage: a bad value in one column, or the line
    written twice."""
    table = draw(st.sampled_from(["final", "trials"]))
    n_rows = len(_lines(finished / "results" / "tiny" / f"{table}.csv")) - 1
    line = draw(st.integers(1, n_rows))
    if draw(st.booleans()):
        return table, line, None, None
    column, kind = draw(st.sampled_from(sorted(KINDS[table].items())))
    return table, line, column, draw(st.sampled_from(BAD[kind]))


def _damage(path: Path, line: int, column: str | None, value: str | None) -> None:
    """Replace one value of a data line, or repeat the line (``column`` None)."""
    lines = _lines(path)
    if column is None:
        lines.insert(line + 1, lines[line])
    else:
        header, fields = (next(csv.reader([lines[k]])) for k in (0, line))
        fields[header.index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(fields)
        lines[line] = out.getvalue()
    path.write_text("".join(lines))


def _commands(root: Path, clean: Path) -> dict[str, list[str]]:
    folder = str(root / "results" / "tiny")
    return {"report": ["report", folder], "status": ["status", folder],
            "compare": ["compare", str(clean / "results" / "tiny"), folder],
            "run": ["run", str(root / "tiny.yaml"), "--results-dir", str(root / "results"),
                    "--cache-dir", str(root / "cache"), "--no-progress", "--no-report"]}


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_table_is_one_line_and_exit_2_for_every_reader(finished, capsys, data):
    table, line, column, value = data.draw(damages(finished))
    root = _copy(finished)
    _damage(root / "results" / "tiny" / f"{table}.csv", line, column, value)
    before = digest(root / "results")
    for name, argv in _commands(root, finished).items():
        capsys.readouterr()
        assert main(argv) == 2, (name, table, line, column, value)
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("ftbench: error: "), (name, err)
        assert f"{table}.csv" in err and "Traceback" not in err, (name, err)
    assert digest(root / "results") == before  # nothing written, nothing repaired silently
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("ends", ["\n", "\r\r\n", "\r"])
def test_other_line_ends_give_the_same_answer(finished, capsys, ends):
    root = _copy(finished)
    for table in ("trials", "final", "epochs", "confusion"):
        path = root / "results" / "tiny" / f"{table}.csv"
        path.write_bytes(path.read_bytes().replace(b"\r\n", ends.encode()))
    answers = []
    for folder in (finished, root):
        capsys.readouterr()
        assert main(["status", str(folder / "results" / "tiny")]) == 0
        out = capsys.readouterr().out.replace(str(folder), "ROOT")
        answers.append([ln for ln in out.splitlines() if not ln.startswith("last update")])
    assert answers[0] == answers[1]  # all but the files' times, which the rewrite changed
    assert main(["compare", str(finished / "results" / "tiny"),
                 str(root / "results" / "tiny")]) == 0
    out = capsys.readouterr().out
    assert "| both | " in out and "| 2 | " in out and "+0.0 [+0.0, +0.0]" in out  # 2 seeds
    shutil.rmtree(root, ignore_errors=True)
