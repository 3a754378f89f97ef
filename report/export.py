"""The report's tables for papers: LaTeX (``ftbench report --format latex``) and Markdown.

Each published table of ``report/`` (the answer, the guideline comparison, accuracy by size,
the similarity table) is written again as ``report/latex/<name>.tex`` (a ``tabular`` in
booktabs style, every cell escaped) or ``report/markdown/<name>.md``, from its CSV.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from benchmarks.results.csv_check import read_checked
from report.render import Table, render_markdown

TABLES = ("answer", "guideline_table", "accuracy_by_size", "similarity_table")
"""The report's tables that go into a paper (their CSV names, without ``.csv``)."""
FORMATS = ("latex", "markdown")


def export_tables(report_dir: Path, fmt: str) -> list[Path]:
    """Write each of :data:`TABLES` present in ``report_dir`` in ``fmt``; return the files.

    Raises:
        ValueError: an unknown format (one line naming the valid ones).
    """
    if fmt not in FORMATS:
        raise ValueError(f"--format: it must be one of {', '.join(FORMATS)}, but got "
                         f"{fmt!r}.")
    folder = report_dir / fmt
    folder.mkdir(exist_ok=True)
    written = []
    for name in TABLES:
        source = report_dir / f"{name}.csv"
        if not source.is_file():
            continue
        table = pd.read_csv(io.StringIO(read_checked(source)[0]), keep_default_na=False,
                            na_values=[""])
        path = folder / f"{name}.{'tex' if fmt == 'latex' else 'md'}"
        path.write_text(_latex(table) if fmt == "latex" else render_markdown([Table(table)]),
                        encoding="utf-8")
        written.append(path)
    return written


def _latex(table: pd.DataFrame) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``), numbers to 3 digits."""
    return table.to_latex(index=False, escape=True, na_rep="--", float_format="%.3g")
