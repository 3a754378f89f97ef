"""Where a report's numbers come from: the suite file, versions, commit, hardware, compute."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from benchmarks.results.csv_check import read_checked
from report.render import Block, Bullets, Code, Heading, Paragraph, Table

SUMMARY_KEYS = ("size_scale", "total_time_s", "finished", "peak_rss_mb", "data_in_memory_mb",
                "input_size")
"""run.json facts shown under the report's title."""


def suite_name(info: dict, final: pd.DataFrame) -> str:
    """The suite's name from ``run.json``, else from ``final.csv``'s ``suite`` column."""
    suites = sorted(set(final["suite"])) if "suite" in final else []
    return str(info.get("suite") or ", ".join(s for s in suites if s) or "unknown suite")


def title_blocks(info: dict, final: pd.DataFrame) -> list[Block]:
    """The title, the run's key facts and its notes on regimes and epochs."""
    name = suite_name(info, final)
    facts = [f"suite: {name}"] + [f"{k}: {info[k]}" for k in SUMMARY_KEYS if k in info]
    placement = placement_fact(info.get("data_placement"))
    facts += [placement] if placement else []
    notes = [str(info[k]) for k in ("regime_note", "epochs_note") if info.get(k)]
    dirty = [c for c in recorded_commits(info) if c.endswith("+dirty")]
    if dirty:
        notes.insert(0, f"NOT A CLEAN COMMIT: the code that ran had uncommitted changes "
                        f"(git commit {', '.join(dirty)}), so these numbers may not be "
                        "reproducible from that commit alone.")
    return ([Heading(f"ftbench report: {name}", 1), Bullets(tuple(facts))]
            + [Paragraph(note) for note in notes])


def recorded_commits(info: dict) -> list[str]:
    """Every git commit ``run.json`` records, first seen first: each invocation's at its
    start and, where the tree changed under it, at its end (older ftbench versions recorded
    one, the last invocation's at its end)."""
    runs = [r for r in info.get("runs") or [] if isinstance(r, dict)]
    seen = [r.get(k) for r in runs for k in ("git_commit", "git_commit_at_end")]
    seen += [info.get("git_commit"), info.get("git_commit_at_end")]
    return list(dict.fromkeys(str(c) for c in seen if c))


def placement_fact(placement: dict | None) -> str:
    """Where the trials' images lived (``run.json``'s ``data_placement``), in one line; ""
    for a CPU run or a folder of an ftbench that did not record it."""
    if not placement or placement.get("free_mb") is None:
        return ""
    where = (f"{placement.get('device')}, {placement['free_mb']:,} MiB free at the start, "
             f"{placement.get('workers', 1)} worker(s)")
    on_host = placement.get("on_host") or {}
    if not on_host:
        return f"images on the device: every cell's ({where})"
    cells = "; ".join(f"{key} ({why})" for key, why in sorted(on_host.items()))
    return (f"images on the host, copied per batch, for {len(on_host)} cell(s), which did not "
            f"fit on the device ({where}): {cells}")


BACKBONE_COLUMNS = {"backbone": "backbone", "model": "model", "weights": "weights",
                    "input_size": "input px", "params": "parameters", "gflops": "GFLOPs/image",
                    "train_img_per_s": "train img/s", "train_img_per_s_channels_last":
                    "train img/s (channels-last)", "infer_img_per_s": "inference img/s",
                    "channels_last": "channels-last", "device": "device",
                    "checkpoint_sha256": "checkpoint SHA-256"}
"""The columns of ``backbones.csv`` the provenance section shows, with their headers."""


def backbone_blocks(results_dir: Path) -> list[Block]:
    """The backbones' cost facts (``backbones.csv``): size, FLOPs, speed, exact weights."""
    path = results_dir / "backbones.csv"
    if not path.is_file():
        return [Paragraph("No backbones.csv in this results folder (written by an older "
                          "ftbench).")]
    table = pd.read_csv(io.StringIO(read_checked(path)[0]), dtype=str, keep_default_na=False)
    shown = table.reindex(columns=[c for c in BACKBONE_COLUMNS if c in table.columns])
    if "checkpoint_sha256" in shown:
        shown["checkpoint_sha256"] = shown["checkpoint_sha256"].str[:16]
    return [Heading("Backbones (backbones.csv, measured at the start of the latest run)", 3),
            Table(shown.rename(columns=BACKBONE_COLUMNS))]


def _seconds(value: float) -> str:
    return f"{value:.0f} s ({value / 3600:.2f} h)"


def compute_facts(trials: pd.DataFrame, final: pd.DataFrame, info: dict) -> list[str]:
    """Total training compute of the tuning trials and final seeds, and the runs' wall time.

    Args:
        trials: Rows of ``trials.csv``.
        final: Rows of ``final.csv``.
        info: ``run.json`` (``{}`` when absent).

    Returns:
        One line per fact; rows without a recorded time are counted and named.
    """
    facts = []
    for label, rows in (("tuning trials", trials), ("final seeds", final)):
        recorded = rows["train_time_s"] if "train_time_s" in rows else pd.Series(
            float("nan"), index=rows.index)
        times = pd.to_numeric(recorded, errors="coerce")
        missing = int(times.isna().sum())
        text = f"training time of the {len(rows)} {label}: {_seconds(float(times.sum()))}"
        if missing:
            text += f" ({missing} rows record no time: written before ftbench recorded it)"
        facts.append(text)
    runs = info.get("runs") if isinstance(info.get("runs"), list) else []
    walls = [r.get("total_time_s") for r in runs if isinstance(r, dict)]
    walls = [w for w in walls if isinstance(w, int | float)]
    if walls:
        facts.append(f"wall time of the {len(walls)} invocation(s) of `ftbench run` (resumes "
                     f"included): {_seconds(float(sum(walls)))}")
    elif isinstance(info.get("total_time_s"), int | float):
        facts.append(f"wall time of the run: {_seconds(float(info['total_time_s']))}")
    return facts


def _mapping_text(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items() if v not in (None, ""))
    return json.dumps(value) if isinstance(value, list) else str(value)


def run_facts(info: dict) -> list[str]:
    """Versions, git commit, hardware, tuning budget and seeds as ``run.json`` records them."""
    labels = (("git_commit", "git commit of ftbench"), ("versions", "library versions"),
              ("hardware", "hardware"), ("tuning", "tuning budget and seeds"),
              ("checkpoints", "pretrained checkpoints"))
    facts = [f"{label}: {_mapping_text(info[key])}" for key, label in labels if info.get(key)]
    commits = recorded_commits(info)
    if len(commits) > 1:
        facts.insert(1, "the code changed between or during invocations: git commits "
                        f"{', '.join(commits)}, first to last")
    absent = [label for key, label in labels if not info.get(key)]
    if absent:
        facts.append("not recorded in run.json (written by an older ftbench or absent): "
                     + ", ".join(absent))
    return facts


def provenance_blocks(results_dir: Path, info: dict, trials: pd.DataFrame,
                      final: pd.DataFrame) -> list[Block]:
    """The provenance section: compute, run facts and the suite file exactly as it ran."""
    suite_file = results_dir / "suite.yaml"
    blocks: list[Block] = [
        Heading("12. Provenance"),
        Paragraph("Everything in this report was computed from the CSV files of this results "
                  "folder (never from MLflow or Optuna's storage); run.json holds the facts "
                  "below."),
        Bullets(tuple(compute_facts(trials, final, info) + run_facts(info))),
        *backbone_blocks(results_dir),
        Heading("The suite file as it ran (suite.yaml, defaults filled in)", 3),
    ]
    if not suite_file.is_file():
        return blocks + [Paragraph(f"No suite.yaml in {results_dir.name}/.")]
    text = suite_file.read_text(encoding="utf-8", errors="replace")
    return blocks + [Code(text, summary="suite.yaml")]
