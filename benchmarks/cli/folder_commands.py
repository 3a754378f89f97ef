"""The commands that read results folders: ``ftbench report`` and ``ftbench compare``."""

from __future__ import annotations

import argparse
from pathlib import Path


def _results_folder(folder: Path) -> Path:
    """``folder`` if it is an existing folder; else one line saying what it is."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"results folder '{folder}': it must be a folder, but it is a "
                         "file. Pass the folder `ftbench run` wrote, e.g. results/quickstart.")
    if not folder.is_dir():
        raise ValueError(f"results folder '{folder}': it must exist, but it does not. "
                         "Run `ftbench run` first.")
    return folder


def cmd_report(args: argparse.Namespace) -> None:
    from report import build_report

    markdown = build_report(_results_folder(args.folder))
    print(f"report: {markdown}")
    if args.format:
        from report.export import export_tables

        for path in export_tables(markdown.parent, args.format):
            print(f"table:  {path}")


def cmd_compare(args: argparse.Namespace) -> None:
    from report.compare import compare_finals, markdown, summary_lines
    from report.inputs import FINAL_REQUIRED, read_results_csv

    if not 0 < args.margin < 0.5:
        raise ValueError(f"--margin: 0 < margin < 0.5 must hold, but got {args.margin}. Use "
                         "e.g. 0.01 (one accuracy point).")
    folders = [_results_folder(f) for f in (args.a, args.b)]  # both named before any read
    finals = [read_results_csv(f / "final.csv", FINAL_REQUIRED) for f in folders]
    table = compare_finals(*finals, margin=args.margin)
    text = "\n".join(summary_lines(args.a, args.b, table, args.margin)) + "\n\n" + \
        markdown(table)
    print(text, end="")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "compare.csv", index=False)
        (args.out / "compare.md").write_text(text, encoding="utf-8")
        print(f"written: {args.out / 'compare.csv'}, {args.out / 'compare.md'}")
