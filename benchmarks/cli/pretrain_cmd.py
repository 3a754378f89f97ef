"""``ftbench pretrain``: pretrain a backbone on any registered dataset, then export it."""

from __future__ import annotations

import argparse

import yaml

from benchmarks.data import dataset_options
from benchmarks.driver.progress import Progress
from benchmarks.models.backbones import check_backbone_name
from benchmarks.models.pretrain import (
    PretrainConfig,
    check_export_path,
    default_cache_dir,
    ensure_pretrained,
    export_checkpoint,
)


def parse_options(pairs: list[str]) -> dict:
    """``["classes=[0, 1]", "root=data"]`` -> ``{"classes": [0, 1], "root": "data"}``."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"option '{pair}': it must read KEY=VALUE, but has no '='. "
                             "Example: --option 'classes=[0, 1, 2]'.")
        try:
            options[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ValueError(f"option '{pair}': its value must be YAML, but it does not parse. "
                             "Quote lists: --option 'classes=[0, 1]'.") from None
    return options


def pretrain_command(args: argparse.Namespace) -> None:
    """Pretrain (or find in the cache), print where the checkpoint is and how to use it."""
    check_backbone_name(args.backbone)
    dataset_options(args.dataset)  # unknown dataset: a clear error before any work
    if args.epochs < 1 or args.batch_size < 1 or not args.lr > 0:
        raise ValueError(f"pretraining settings: epochs >= 1, batch size >= 1 and lr > 0 must "
                         f"hold, but got {args.epochs}, {args.batch_size} and {args.lr}.")
    cfg = PretrainConfig(backbone=args.backbone, dataset=args.dataset,
                         dataset_options=parse_options(args.option), epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    if args.out is not None:
        check_export_path(args.out)
    progress = Progress(cfg.epochs)
    progress.start(f"pretraining {cfg.backbone} on {cfg.dataset}")
    try:
        done = ensure_pretrained(cfg, args.cache_dir or default_cache_dir(),
                                 report=lambda epoch, metrics: progress.epoch())
    finally:
        progress.close()
    path = export_checkpoint(done, args.out) if args.out is not None else done.path
    state = "cached" if done.meta["cached"] else f"trained in {done.meta['train_time_s']:.0f} s"
    print(f"checkpoint: {path} ({state}; source test accuracy "
          f"{done.meta['source_test_acc']:.3f}, input {done.input_size} px)")
    print(f"use it in a suite (an absolute path; a relative one is read from the suite "
          f"file's folder):\n  backbones: [{{name: {cfg.backbone}, weights: {path.absolute()}}}]")
