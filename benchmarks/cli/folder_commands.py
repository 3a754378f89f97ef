"""The commands that take results folders: ``ftbench report``, ``compare``, ``pack`` and
``unpack``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from report.findings import Findings


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
    from report.findings import compare_findings, findings_markdown
    from report.inputs import FINAL_REQUIRED, read_results_csv

    if not 0 < args.margin < 0.5:
        raise ValueError(f"--margin: 0 < margin < 0.5 must hold, but got {args.margin}. Use "
                         "e.g. 0.01 (one accuracy point).")
    if args.out is not None:
        _out_folder(args.out)
    folders = [_results_folder(f) for f in (args.a, args.b)]  # both named before any read
    finals = [read_results_csv(f / "final.csv", FINAL_REQUIRED) for f in folders]
    table = compare_finals(*finals, margin=args.margin)
    findings = compare_findings(*zip(folders, finals))
    text = "\n".join(summary_lines(args.a, args.b, table, args.margin)) + "\n\n" + \
        markdown(table) + "\n" + findings_markdown(findings)
    print(text, end="")
    if args.out is not None:
        written = _write_compare(args.out, text, table, findings)
        print(f"written: {', '.join(str(p) for p in written)}")


def _out_folder(out: Path) -> None:
    """Refuse an ``--out`` that is, or lies under, a file, before anything is printed."""
    blocker = next((p for p in (out, *out.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        what = "it is a file" if blocker == out else f"'{blocker}' is a file"
        raise ValueError(f"--out '{out}': it must be a folder (or a new path), but {what}. "
                         "Pass --out a folder, or move that file away.")


def _write_compare(out: Path, text: str, table: pd.DataFrame, findings: Findings
                   ) -> list[Path]:
    """``compare.csv``, ``compare.md`` (what was printed) and the findings' tables."""
    from report.findings import write_findings

    try:
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "compare.csv", index=False)
        (out / "compare.md").write_text(text, encoding="utf-8")
        return [out / "compare.csv", out / "compare.md", *write_findings(findings, out)]
    except OSError as exc:
        raise ValueError(f"--out '{out}': it must be a writable folder, but "
                         f"{exc.strerror or exc}. Fix its permissions or pass --out another "
                         "folder.") from None


def cmd_pack(args: argparse.Namespace) -> None:
    from benchmarks.results.archive import default_archive, pack

    folder = _results_folder(args.folder)
    _check_nothing_runs(folder)
    archive = args.out or default_archive(folder)
    files = pack(folder, archive)
    print(f"packed: {archive} ({len(files)} files, {archive.stat().st_size / 2**20:.1f} MiB; "
          "report/ is left out: `ftbench report` rebuilds it)")
    storage = _plan_storage(folder)
    if storage and storage != str((folder / "optuna.journal").resolve()):
        print(f"note: its Optuna storage is not in the archive ({storage}, as plan.json says): "
              "resume with the same --storage, which the other machine must reach")
    print(f"restore it with: ftbench unpack {archive.name} --results-dir DIR")


def _check_nothing_runs(folder: Path) -> None:
    """Refuse a folder whose journal holds a trial that a live process still runs: its
    files are being written, and the trial would look alive elsewhere. Trials of a killed
    run are only noted: a resume retries them."""
    journal = folder / "optuna.journal"
    if not journal.is_file():
        return
    from benchmarks.driver.liveness import running_trials
    from benchmarks.driver.storage import make_storage

    running = running_trials(make_storage(str(journal)))
    alive = [name for name, live in running if live]
    if alive:
        verb = "does" if len(alive) == 1 else "do"
        raise ValueError(f"results folder '{folder}': no trial may run while it is packed, but "
                         f"{len(alive)} {verb} ({alive[0]}). Let the run end, or stop it "
                         "(Ctrl-C, SIGTERM or --stop-after, which record the trial in flight), "
                         "then pack.")
    if running:
        print(f"note: {len(running)} trial(s) of a killed run are still RUNNING in its journal "
              f"({running[0][0]}); the resumed run fails and retries them, on another machine "
              "once their heartbeat is --stale-after old (pass e.g. --stale-after 180 there)")


def _plan_storage(folder: Path) -> str | None:
    """The Optuna storage plan.json names (password masked), or None."""
    import json

    try:
        return json.loads((folder / "plan.json").read_text()).get("storage")
    except (OSError, ValueError, AttributeError):
        return None


def cmd_unpack(args: argparse.Namespace) -> None:
    from benchmarks.driver.tracking import relocate_artifacts
    from benchmarks.results.archive import unpack

    folder = unpack(args.archive, args.results_dir)
    relocate_artifacts(folder)  # mlflow.db holds the packing machine's absolute paths
    n_files = sum(p.is_file() for p in folder.rglob("*"))
    print(f"unpacked: {folder}/ ({n_files} files)")
    print(f"resume:   ftbench run SUITE --results-dir {args.results_dir} (SUITE: the suite file "
          f"or built-in name it ran; {folder / 'suite.yaml'} is the suite as it ran, with the "
          "packing machine's data paths)")
