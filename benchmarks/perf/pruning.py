"""Case (d) of ``python -m benchmarks.perf.main`` over pruner candidates: the epochs each one
trains while tuning, against no pruning, and how far each cell's best validation accuracy
moves, on the quickstart and on a suite shaped like the ImageNet one. Every run is an
``ftbench run`` in a subprocess; the runs without pruning are the reference."""

from __future__ import annotations

import statistics
from pathlib import Path

import yaml

from benchmarks.perf.cases import Measure
from benchmarks.perf.suite import QUICKSTART, best_by_cell, run_suite, tuning_rows

CANDIDATES: dict[str, dict] = {
    "median, 2 start-up trials, 2 warm-up epochs": {
        "type": "median", "n_startup_trials": 2, "n_warmup_steps": 2},
    "median, 1 start-up trial, 1 warm-up epoch": {
        "type": "median", "n_startup_trials": 1, "n_warmup_steps": 1},
    "successive halving, min 1 epoch, factor 3": {
        "type": "successive_halving", "min_resource": 1, "reduction_factor": 3},
    "hyperband, min 1 epoch, factor 3": {
        "type": "hyperband", "min_resource": 1, "reduction_factor": 3},
}
"""Pruners compared with no pruning (the first is the one the suites shipped with)."""

IMAGENET_SHAPED = {
    "name": "imagenet_shaped",
    "description": "The shape of the ImageNet suite on procedural data: one pretrained "
                   "backbone, a near and a far target, a small and a large size, four "
                   "strategies, more trials per cell and more epochs at the small size.",
    "backbones": ["test_resnet"], "datasets": ["synth_near", "synth_far"],
    "sizes": [250, 1000], "strategies": ["feature_extraction", "partial_freeze",
                                         "full_finetune", "from_scratch"],
    "trials": 8, "seeds": [0], "sampler_seed": 0,
    "pretrain": {"dataset": "synth_source", "epochs": 6, "batch_size": 128, "lr": 0.002},
    "train": {"max_epochs": 8, "batch_size": 64, "optimizer": "adamw", "warmup_epochs": 1,
              "patience": 10},
    "epochs_by_size": {250: 15, 1000: 6},
}
"""A stand-in for the ImageNet suite's grid (2 targets x 2 sizes x 4 strategies, 8 trials)."""


def shapes(quick: bool) -> dict[str, dict]:
    """The suites the candidates are measured on: the quickstart and the ImageNet shape,
    each with one final seed (final seeds do no tuning); ``quick`` shrinks both."""
    quickstart = {**yaml.safe_load(QUICKSTART.read_text()), "seeds": [0]}
    out = {"quickstart": quickstart, "imagenet_shaped": dict(IMAGENET_SHAPED)}
    if quick:
        for suite in out.values():
            sizes = suite["sizes"][:1]
            suite.update(datasets=["synth_near"], sizes=sizes, trials=3,
                         epochs_by_size={sizes[0]: 4},
                         strategies=["feature_extraction", "full_finetune"])
    return out


def case_d(folder: Path, threads: int, quick: bool) -> list[Measure]:
    """(d) for every shape and candidate: epoch ratio and best-accuracy gap against none."""
    out: list[Measure] = []
    for shape, suite in shapes(quick).items():
        plain = tuning_rows(_run(folder, shape, "none", {**suite, "pruner": {"type": "none"}},
                                 threads))
        for label, pruner in CANDIDATES.items():
            rows = tuning_rows(_run(folder, shape, pruner["type"] + str(len(out)),
                                    {**suite, "pruner": pruner}, threads))
            out += compare(f"{shape}: {label}", rows, plain)
    return out


def _run(folder: Path, shape: str, tag: str, suite: dict, threads: int) -> Path:
    """One ``ftbench run`` of ``suite`` in its own folder; its trials.csv."""
    path = folder / f"{shape}-{tag}.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    _, trials = run_suite(path, folder / f"{shape}-{tag}", threads, suite["name"])
    return trials


def compare(what: str, pruned: list[dict], plain: list[dict]) -> list[Measure]:
    """The epoch ratio and the per-cell best-accuracy gap of one pruned run."""
    epochs = [sum(int(r["epochs_run"] or 0) for r in rows) for rows in (pruned, plain)]
    ratio = epochs[0] / max(1, epochs[1])
    best_pruned, best_plain = best_by_cell(pruned), best_by_cell(plain)
    lost = [100 * (best_plain[c] - best_pruned.get(c, 0.0)) for c in best_plain]
    mean_gap = statistics.mean(abs(g) for g in lost) if lost else float("nan")
    n_pruned = sum(r["status"] == "PRUNED" for r in pruned)
    return [Measure("d", f"{what}: tuning epochs, pruned / not", ratio, "<= 0.5",
                    ratio <= 0.5, f"{epochs[0]} vs {epochs[1]} epochs; {n_pruned} of "
                    f"{len(pruned)} trials pruned"),
            Measure("d", f"{what}: best val acc gap per cell, points (mean)", mean_gap,
                    "<= 1", mean_gap <= 1,
                    f"over {len(lost)} cells; most lost {max(lost, default=0):.2f}, most "
                    f"gained {max(0.0, -min(lost, default=0)):.2f}")]
