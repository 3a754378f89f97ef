"""``backbones.csv``: the cost facts of every backbone of a suite, beside its results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.data import TaskData
from benchmarks.models.backbones import create_backbone
from benchmarks.models.cost import cost_facts
from benchmarks.models.memory_format import FormatChoice
from benchmarks.models.pretrain import Pretrained
from benchmarks.results.fingerprint import file_digest
from benchmarks.suite.model import Suite

COLUMNS = ["backbone", "model", "weights", "checkpoint", "checkpoint_sha256", "input_size",
           "params", "flops",
           "gflops", "infer_img_per_s", "batch_size", "device", "channels_last",
           "format_source", "train_img_per_s", "train_img_per_s_channels_last"]
"""Columns of ``backbones.csv``; documented in ``results/README.md``."""


def write_backbone_costs(out: Path, suite: Suite, pretrained: dict[str, Pretrained],
                         tasks: dict[str, TaskData],
                         formats: dict[str, FormatChoice]) -> pd.DataFrame:
    """Measure each backbone (with the first dataset's head) and write ``backbones.csv``,
    with the memory format each trains in (``formats``, by backbone key).

    Rewritten on every run: the numbers describe the machine of the latest run.
    """
    n_classes = len(next(iter(tasks.values())).classes)
    rows = []
    for ref in suite.backbones:
        weights = pretrained[ref.key]
        model = create_backbone(ref.name, n_classes, weights.path)
        facts = cost_facts(model, weights.input_size, device=suite.train.device)
        rows.append({"backbone": ref.key, "model": ref.name, "weights": ref.kind,
                     "checkpoint": str(weights.path or ""),
                     "checkpoint_sha256": file_digest(weights.path) if weights.path else "",
                     **facts.to_row(),
                     **formats[ref.key].to_row()})
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    table["gflops"] = table["gflops"].round(4)
    table["infer_img_per_s"] = table["infer_img_per_s"].round(1)
    table.to_csv(out / "backbones.csv", index=False)
    return table
