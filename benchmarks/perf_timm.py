"""Case (f) of ``python -m benchmarks.perf --timm-train PATH``: ftbench's trial throughput
against timm's own training script on the same model, images, batch and schedule.

timm's ``train.py`` is the user's copy (a clone of pytorch-image-models), run as it is in a
subprocess; nothing of it is copied here. Both train timm's ``resnet18`` from scratch at
32 px for 2 epochs, SGD at lr 0.01 with a cosine schedule and no warm-up, label smoothing
0.1, batch 128, on the same JPEGs: 800 training and 160 validation images of each of the
five CIFAR-10 classes in ``cifar10_5class``. timm reads and decodes the JPEGs each epoch with
``--workers 2``; ftbench decodes them once into memory, as every ftbench trial does.

timm's rate is the one its log prints for the last epoch (images over the mean time of an
update, validation excluded); ftbench's is training images over its trial's whole time,
validation of every epoch included. The runs alternate (timm, ftbench, ftbench, timm) and
the medians are compared.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from benchmarks.backbones import create_backbone, normalisation
from benchmarks.data.registry import load_dataset
from benchmarks.memory_format import choose_format
from benchmarks.perf_cases import Measure
from benchmarks.pretrain import default_cache_dir
from benchmarks.tensors import TensorData
from benchmarks.training import TrainConfig, train
from strategies import StrategyConfig, get_strategy, layer_groups

IMAGES = Path(os.environ.get("FTBENCH_DATA", "../shared/data")) / "cifar10_5class"
PER_CLASS = (800, 160)
"""Training and validation images per class."""
MODEL, SIZE, BATCH, EPOCHS, LR = "resnet18", 32, 128, 2, 0.01

_RATE = re.compile(r"Train: (\d+) \[.*\(\s*[\d.]+s,\s*([\d.]+)/s\)")


def case_f(timm_train: Path, reps: int = 2) -> list[Measure]:
    """(f) the throughput ratio ftbench / timm's train.py, and each side's images per second.

    Raises:
        ValueError: ``timm_train`` is not a file, or the images are missing.
    """
    if not timm_train.is_file():
        raise ValueError(f"--timm-train '{timm_train}': timm's train.py must exist there, but "
                         "it does not. Pass the train.py of a pytorch-image-models clone.")
    with tempfile.TemporaryDirectory(prefix="ftbench-timm-") as tmp:
        folder = _image_folder(Path(tmp) / "data")
        rates: dict[str, list[float]] = {"timm": [], "ftbench": []}
        for rep in range(reps):
            for side in ("timm", "ftbench") if rep % 2 == 0 else ("ftbench", "timm"):
                rate = _timm_rate(timm_train, folder, Path(tmp) / f"out{rep}") \
                    if side == "timm" else _ftbench_rate(folder)
                rates[side].append(rate)
    timm_rate, ours = (statistics.median(rates[k]) for k in ("timm", "ftbench"))
    ratio = ours / timm_rate
    note = f"{MODEL} from scratch, {SIZE} px, batch {BATCH}, {EPOCHS} epochs, SGD"
    return [Measure("f", "trial throughput, ftbench / timm train.py", ratio, ">= 1.5",
                    ratio >= 1.5, note),
            Measure("f", "timm train.py, training images/s (its log, last epoch)", timm_rate,
                    note=f"runs: {', '.join(f'{r:.0f}' for r in rates['timm'])}"),
            Measure("f", "ftbench trial, training images/s (validation included)", ours,
                    note=f"runs: {', '.join(f'{r:.0f}' for r in rates['ftbench'])}")]


def _image_folder(root: Path) -> Path:
    """``root/train/<class>/`` and ``root/test/<class>/``: links to the first images of each
    class of ``cifar10_5class``'s training split."""
    source = IMAGES / "train"
    if not source.is_dir():
        raise ValueError(f"images '{source}': the cifar10_5class folder must exist, but it "
                         "does not. Set FTBENCH_DATA to the folder that holds it.")
    for klass in sorted(p.name for p in source.iterdir()):
        files = sorted((source / klass).iterdir())
        for split, chosen in (("train", files[:PER_CLASS[0]]),
                              ("test", files[PER_CLASS[0]:sum(PER_CLASS)])):
            (root / split / klass).mkdir(parents=True)
            for path in chosen:
                (root / split / klass / path.name).symlink_to(path.resolve())
    return root


def _timm_rate(timm_train: Path, folder: Path, out: Path) -> float:
    """timm's training images per second in its last epoch, as its log prints them."""
    command = [sys.executable, str(timm_train), "--data-dir", str(folder), "--model", MODEL,
               "--num-classes", "5", "-b", str(BATCH), "--epochs", str(EPOCHS), "--lr",
               str(LR), "--opt", "sgd", "--sched", "cosine", "--warmup-epochs", "0",
               "--workers", "2", "--no-prefetcher", "--device", "cpu", "--input-size", "3",
               str(SIZE), str(SIZE), "--val-split", "test", "--output", str(out),
               "--log-interval", "1000"]
    log = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    found = [(int(epoch), float(rate)) for epoch, rate in _RATE.findall(log)]
    if not found:
        raise RuntimeError(f"timm's train.py printed no training rate; its log ends: "
                           f"{log[-500:]}")
    return max(found)[1]


def _ftbench_rate(folder: Path) -> float:
    """ftbench's training images per second over one from-scratch trial (validation in)."""
    task = load_dataset("imagefolder", root=str(folder))
    model = create_backbone(MODEL, len(task.classes))
    mean, std = normalisation(model)
    data = TensorData(task.train.images, task.train.labels, task.test.images, task.test.labels,
                      mean, std)
    fmt = choose_format("auto", lambda: create_backbone(MODEL, len(task.classes)), SIZE, BATCH,
                        "cpu", default_cache_dir(), MODEL)
    config = TrainConfig(max_epochs=EPOCHS, batch_size=BATCH, optimizer="sgd", warmup_epochs=0,
                         label_smoothing=0.1, grad_clip_norm=None, patience=EPOCHS,
                         channels_last=fmt.channels_last)
    strategy = get_strategy("from_scratch")(StrategyConfig(lr=LR, weight_decay=2e-5))
    torch.manual_seed(0)
    result = train(model, strategy, layer_groups(model), data, config, seed=0)
    return EPOCHS * len(task.train.labels) / result.train_time_s
