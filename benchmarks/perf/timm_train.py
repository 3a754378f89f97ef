"""Case (f) of ``python -m benchmarks.perf.main --timm-train PATH``: ftbench's trial throughput
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
the medians are compared. ftbench gets one torch thread per core, as timm's process does.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks.data.registry import load_dataset
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.tensors import TensorData
from benchmarks.engine.training import train
from benchmarks.models.backbones import create_backbone, normalisation
from benchmarks.models.memory_format import choose_format
from benchmarks.models.pretrain import default_cache_dir
from benchmarks.perf.cases import Measure
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
        sides = {"timm": lambda rep: _timm_rate(timm_train, folder, Path(tmp) / f"out{rep}"),
                 "ftbench": lambda rep: _with_all_cores(_trial_rate, folder),
                 "bare": lambda rep: _with_all_cores(_bare_rate, folder)}
        rates: dict[str, list[float]] = {name: [] for name in sides}
        for rep in range(reps):
            for name in list(sides) if rep % 2 == 0 else list(sides)[::-1]:
                rates[name].append(sides[name](rep))
    timm_rate, ours, bare = (statistics.median(rates[k]) for k in ("timm", "ftbench", "bare"))
    note = f"{MODEL} from scratch, {SIZE} px, batch {BATCH}, {EPOCHS} epochs, SGD"
    runs = {k: "runs: " + ", ".join(f"{r:.0f}" for r in v) for k, v in rates.items()}
    return [Measure("f", "trial throughput, ftbench / timm train.py", ours / timm_rate,
                    ">= 1.5", ours / timm_rate >= 1.5, note),
            Measure("f", "timm train.py, training images/s (its log, last epoch)", timm_rate,
                    note=runs["timm"]),
            Measure("f", "ftbench trial, training images/s (validation included)", ours,
                    note=runs["ftbench"]),
            Measure("f", "bare PyTorch loop, training images/s (no validation)", bare,
                    note=runs["bare"] + "; the compute bound of any loop on this machine"),
            Measure("f", "bound on the ratio: bare loop / timm train.py", bare / timm_rate,
                    note="what ftbench could reach with no overhead and no validation")]


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


def _with_all_cores(measure, folder: Path) -> float:
    """``measure(folder)`` with one torch thread per core, as timm's process has by default."""
    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        return measure(folder)
    finally:
        torch.set_num_threads(threads)


def _data(folder: Path) -> tuple[TensorData, int]:
    """``folder``'s images in memory, normalised for the model; and the class count."""
    task = load_dataset("imagefolder", root=str(folder))
    mean, std = normalisation(create_backbone(MODEL, len(task.classes)))
    return TensorData(task.train.images, task.train.labels, task.test.images,
                      task.test.labels, mean, std), len(task.classes)


def _trial_rate(folder: Path) -> float:
    """Training images per second of one ftbench trial on ``folder``'s images."""
    data, n_classes = _data(folder)
    model = create_backbone(MODEL, n_classes)
    fmt = choose_format("auto", lambda: create_backbone(MODEL, n_classes), SIZE, BATCH,
                        "cpu", default_cache_dir(), MODEL)
    config = TrainConfig(max_epochs=EPOCHS, batch_size=BATCH, optimizer="sgd", warmup_epochs=0,
                         label_smoothing=0.1, grad_clip_norm=None, patience=EPOCHS,
                         channels_last=fmt.channels_last)
    strategy = get_strategy("from_scratch")(StrategyConfig(lr=LR, weight_decay=2e-5))
    torch.manual_seed(0)
    result = train(model, strategy, layer_groups(model), data, config, seed=0)
    return EPOCHS * len(data.y_train) / result.train_time_s


def _bare_rate(folder: Path) -> float:
    """Training images per second of a bare loop: the same model, data in memory, batch,
    SGD and label smoothing; no validation, schedule, clipping or bookkeeping."""
    data, n_classes = _data(folder)
    torch.manual_seed(0)
    model = create_backbone(MODEL, n_classes).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, nesterov=True,
                                weight_decay=2e-5)  # timm's "sgd"
    start = time.perf_counter()
    for _ in range(EPOCHS):
        for batch in torch.randperm(len(data.y_train)).split(BATCH):
            optimizer.zero_grad(set_to_none=True)
            out = model(data.normalise(data.x_train[batch]))
            F.cross_entropy(out, data.y_train[batch], label_smoothing=0.1).backward()
            optimizer.step()
    return EPOCHS * len(data.y_train) / (time.perf_counter() - start)
