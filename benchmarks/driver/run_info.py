"""What a results folder records about its run: ``plan.json`` (the cells and budgets, read
by ``ftbench status``) and ``run.json`` (provenance: versions, hardware, timing, memory)."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.driver.grid import Plan
from benchmarks.driver.seeding import SamplerSeeds
from benchmarks.engine.memory import peak_rss_mb
from benchmarks.models.memory_format import FormatChoice
from benchmarks.models.pretrain import Pretrained
from benchmarks.suite.model import Suite


def write_run_info(suite: Suite, out: Path, started: float, pretrained: dict[str, Pretrained],
                    inputs: dict, plan: Plan, formats: dict[str, FormatChoice],
                    commit: str | None, stopped: bool = False,
                    placement: dict | None = None) -> None:
    """Provenance of the run: versions, hardware, timing, memory, how sizes map to regimes
    (``commit``: :func:`git_commit` when this invocation started, the code that ran; the one
    at its end is recorded too where the tree changed meanwhile; ``stopped``: ``--stop-after``
    ended this invocation before the suite was done; ``placement``: where the cells' images
    live, from :func:`benchmarks.engine.placement.plan_placement`)."""
    import optuna
    import timm
    import torch

    info = {
        "suite": suite.name,
        "size_scale": suite.size_scale,
        "regime_note": _regime_note(suite, plan),
        "sizes": {key: {spec.label: n for spec, n in sizes.items()}
                  for key, sizes in plan.items()},
        "epochs_note": _epochs_note(suite),
        "total_time_s": round(time.perf_counter() - started, 1),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "checkpoints": {k: str(v.path) if v.path else None for k, v in pretrained.items()},
        "input_size": {k: v.input_size for k, v in pretrained.items()},
        "memory_format": {k: dataclasses.asdict(v) for k, v in formats.items()},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "data_in_memory_mb": round(_data_mb(inputs), 1),
        "data_placement": placement,
        "versions": {"torch": torch.__version__, "timm": timm.__version__,
                     "optuna": optuna.__version__, "python": platform.python_version()},
        "hardware": {"machine": platform.machine(), "processor": platform.processor(),
                     "cpus": os.cpu_count(), "threads": torch.get_num_threads(),
                     "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None},
        "git_commit": commit,
        "tuning": {"trials_per_cell": suite.trials, "seeds": list(suite.seeds),
                   "sampler_seed": suite.sampler_seed, "cells": sum(
                       len(sizes) for sizes in plan.values()) * len(suite.backbones)
                   * len(suite.strategies)},
    }
    latest = {k: info[k] for k in ("finished", "total_time_s", "git_commit")}
    ended = git_commit()
    if ended != commit:  # the tree changed under a running invocation
        info["git_commit_at_end"] = latest["git_commit_at_end"] = ended
    if stopped:
        latest["stopped"] = True
    info["runs"] = _run_history(out / "run.json") + [latest]
    (out / "run.json").write_text(json.dumps(info, indent=2))


def git_commit() -> str | None:
    """The commit of the ftbench source tree (``+dirty`` with local changes); None outside git."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--",
                                str(here.parent / "benchmarks"), str(here.parent / "strategies"),
                                str(here.parent / "report")], check=True, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _run_history(path: Path) -> list[dict]:
    """The ``runs`` of an earlier ``run.json`` (each invocation's time), kept on resume."""
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(earlier, dict):
        return []
    if isinstance(earlier.get("runs"), list):
        return earlier["runs"]
    keys = ("finished", "total_time_s")
    return [{k: earlier[k] for k in keys}] if all(k in earlier for k in keys) else []


def write_plan(out: Path, suite: Suite, grid: list, storage: str, seeds: SamplerSeeds) -> None:
    """``plan.json``: the cells of this run, their budgets and sampler seeds (read by
    ``ftbench status``), and the Optuna storage that holds their studies (password masked)."""
    plan = {
        "suite": suite.name, "trials_per_cell": suite.trials, "seeds": list(suite.seeds),
        "seeds_within_reach": list(suite.seeds_within_reach), "margin": suite.margin,
        "storage": storage, "sampler_seeds": seeds.way,
        "cells": [{"key": c.key, "backbone": c.backbone, "dataset": c.dataset,
                   "n_train": c.n_train, "size": c.size_label, "strategy": c.strategy,
                   "max_epochs": suite.train_config(c.size).max_epochs,
                   "sampler_seed": seeds.of(c.key)} for c in grid],
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    tmp = out / "plan.json.tmp"
    tmp.write_text(json.dumps(plan, indent=1))
    tmp.replace(out / "plan.json")


def _data_mb(inputs: dict) -> float:
    """MiB of uint8 images held in memory for the trials (all datasets and input sizes)."""
    sets = [s for task in inputs.values() for s in (task.train, task.test)]
    return sum(s.images.numel() * s.images.element_size() for s in sets) / 2**20


def _epochs_note(suite: Suite) -> str:
    """The epoch budget of each size."""
    written = dict.fromkeys(spec for ref in suite.datasets for spec in suite.sizes_of(ref))
    budgets = ", ".join(f"{s.label}: {suite.train_config(s).max_epochs}" for s in written)
    return (f"epoch budget per trial ({budgets}); early stopping after "
            f"{suite.train.patience} epochs without a better validation accuracy")


def _regime_note(suite: Suite, plan: Plan) -> str:
    """How the suite's sizes stand for the guideline's regimes."""
    counts = sorted({n for sizes in plan.values() for n in sizes.values()})
    parts = [f"{n} -> {suite.regime(n)}" for n in counts]
    if suite.size_scale == 1.0:
        return "sizes are taken literally: " + ", ".join(parts)
    return (f"sizes are scaled by {suite.size_scale}: a training size n stands for "
            f"n / {suite.size_scale} samples in the guideline's rows ({', '.join(parts)})")
