"""Case (g) of ``python -m benchmarks.perf.main --only g``: one ftbench trial on a GPU against
a bare PyTorch loop at the same batch size.

Both train EfficientNet-Lite0 (timm ``tf_efficientnet_lite0``, random init: speed does not
depend on the weights) at 224 px in bf16 autocast, channels-last, with fused AdamW and
gradient clipping, on seeded random uint8 images already on the GPU (as
:mod:`benchmarks.engine.placement` puts a trial's images there). The bare loop gathers,
normalises and steps with nothing else; ftbench's trial is ``train()`` as a suite calls it
(schedule, strategy groups, bookkeeping, best-epoch weights). Rates are training images
over the whole time, and each side runs one validation pass per epoch: ``bare+val`` is the
like-for-like bound; ``bare`` (no validation) is the bound the issue measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.engine.config import TrainConfig
from benchmarks.engine.tensors import TensorData
from benchmarks.engine.training import train
from benchmarks.models.backbones import create_backbone, normalisation
from benchmarks.perf.cases import Measure, interleaved, median
from strategies import StrategyConfig, get_strategy, layer_groups

MODEL = "tf_efficientnet_lite0"


@dataclass(frozen=True)
class GpuSetup:
    """Sizes of case (g) (``--quick`` shrinks them, e.g. to try it on a CPU)."""

    n_train: int = 2560
    n_val: int = 512
    size: int = 224
    epochs: int = 3
    reps: int = 3
    batches: tuple[int, ...] = (64, 256)
    device: str = "cuda"
    precision: str = "bf16"
    classes: int = 5


def random_data(setup: GpuSetup) -> TensorData:
    """Seeded random uint8 images and labels on the device (never zeros: see METHOD)."""
    gen = torch.Generator().manual_seed(0)
    shape = (setup.n_train + setup.n_val, 3, setup.size, setup.size)
    x = torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8).to(setup.device)
    y = torch.randint(0, setup.classes, shape[:1], generator=gen).to(setup.device)
    mean, std = normalisation(create_backbone(MODEL, setup.classes))
    n = setup.n_train
    return TensorData(x[:n], y[:n], x[n:], y[n:], mean, std)


def ftbench_seconds(setup: GpuSetup, data: TensorData, batch: int) -> float:
    """Seconds of one ftbench full_finetune trial (``train_time_s``: all of ``train()``)."""
    torch.manual_seed(0)
    model = create_backbone(MODEL, setup.classes)
    cfg = TrainConfig(max_epochs=setup.epochs, batch_size=batch, device=setup.device,
                      precision=setup.precision, channels_last=True, patience=setup.epochs)
    strategy = get_strategy("full_finetune")(StrategyConfig(lr=1e-3))
    return train(model, strategy, layer_groups(model), data, cfg, seed=0).train_time_s


def bare_seconds(setup: GpuSetup, data: TensorData, batch: int, validate: bool) -> float:
    """Seconds of the bare loop: the same model, images, batch, AdamW and clipping."""
    device = torch.device(setup.device)
    torch.manual_seed(0)
    model = create_backbone(MODEL, setup.classes).to(device, memory_format=torch.channels_last)
    _sync(device)
    start = time.perf_counter()
    params = list(model.parameters())
    opt = torch.optim.AdamW([{"params": [p for p in params if p.ndim >= 2]},
                             {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}],
                            lr=1e-3, weight_decay=0.01, fused=True)
    autocast = _autocast(setup)
    for _ in range(setup.epochs):
        model.train()
        for idx in torch.randperm(len(data.y_train), device=device).split(batch):
            x = _input(data, data.x_train[idx])
            with autocast():
                loss = F.cross_entropy(model(x).float(), data.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
        if validate:
            _validate(model, data, autocast)
    _sync(device)
    return time.perf_counter() - start


def _input(data: TensorData, x: torch.Tensor) -> torch.Tensor:
    """A uint8 batch normalised, in channels-last."""
    return data.normalise(x).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def _validate(model: nn.Module, data: TensorData, autocast: Callable) -> float:
    """Validation accuracy in batches of 512, as ftbench computes it."""
    model.eval()
    with autocast():
        preds = [model(_input(data, data.x_val[i : i + 512])).argmax(1).cpu()
                 for i in range(0, len(data.x_val), 512)]
    return (torch.cat(preds) == data.y_val.cpu()).float().mean().item()


def _autocast(setup: GpuSetup) -> Callable:
    """The autocast context factory of ``setup.precision``."""
    dtype = torch.bfloat16 if setup.precision == "bf16" else None
    device_type = torch.device(setup.device).type
    return lambda: torch.autocast(device_type, dtype=dtype, enabled=dtype is not None)


def _sync(device: torch.device) -> None:
    """Wait for the device's queued work (a host clock read is honest only after it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def case_g(setup: GpuSetup) -> list[Measure]:
    """(g) ftbench trial / bare loop at each batch size; images per second of each."""
    data = random_data(setup)
    images = setup.n_train * setup.epochs
    rows = []
    for batch in setup.batches:
        times = interleaved({
            "ftbench": lambda b=batch: ftbench_seconds(setup, data, b),
            "bare+val": lambda b=batch: bare_seconds(setup, data, b, validate=True),
            "bare": lambda b=batch: bare_seconds(setup, data, b, validate=False)}, setup.reps)
        rate = {name: images / median(t) for name, t in times.items()}
        tag = f"[{setup.device} {setup.precision}, Lite0 {setup.size} px, batch {batch}]"
        runs = "; ".join(f"{k} " + ", ".join(f"{images / s:,.0f}" for s in v)
                         for k, v in times.items())
        rows += [Measure("g", f"trial throughput ftbench / bare loop with validation {tag}",
                         rate["ftbench"] / rate["bare+val"], ">= 0.9",
                         rate["ftbench"] / rate["bare+val"] >= 0.9,
                         f"{rate['ftbench']:,.0f} vs {rate['bare+val']:,.0f} images/s"),
                 Measure("g", f"trial throughput ftbench / bare loop without validation {tag}",
                         rate["ftbench"] / rate["bare"], ">= 0.9",
                         rate["ftbench"] / rate["bare"] >= 0.9,
                         f"{rate['ftbench']:,.0f} vs {rate['bare']:,.0f} images/s; runs "
                         f"(images/s): {runs}")]
    return rows


def compiled_seconds(setup: GpuSetup, data: TensorData, batch: int) -> tuple[float, float]:
    """The bare loop (no validation) with the model under ``torch.compile``: seconds of the
    first epoch (compilation included) and of the next ``setup.epochs``."""
    device = torch.device(setup.device)
    torch.manual_seed(0)
    model = create_backbone(MODEL, setup.classes).to(device, memory_format=torch.channels_last)
    step_model = torch.compile(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, fused=True)
    autocast = _autocast(setup)

    def epoch() -> float:
        _sync(device)
        start = time.perf_counter()
        for idx in torch.randperm(len(data.y_train), device=device).split(batch):
            if len(idx) < batch:  # one shape: a last short batch would compile again
                continue
            with autocast():
                loss = F.cross_entropy(step_model(_input(data, data.x_train[idx])).float(),
                                       data.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        _sync(device)
        return time.perf_counter() - start

    first = epoch()
    return first, sum(epoch() for _ in range(setup.epochs))


def case_i(setup: GpuSetup, batch: int = 64) -> list[Measure]:
    """(i) ``torch.compile`` of the bare loop against the eager bare loop (no validation):
    what compiling costs once and what it gains per epoch after."""
    data = random_data(setup)
    eager = median([bare_seconds(setup, data, batch, validate=False) for _ in range(3)])
    first, steady = compiled_seconds(setup, data, batch)
    full = (setup.n_train // batch) * batch * setup.epochs
    tag = f"[{setup.device} {setup.precision}, Lite0 {setup.size} px, batch {batch}]"
    return [Measure("i", f"torch.compile / eager bare loop, images/s after warm-up {tag}",
                    (full / steady) / (setup.n_train * setup.epochs / eager),
                    note=f"{full / steady:,.0f} vs {setup.n_train * setup.epochs / eager:,.0f} "
                    "images/s"),
            Measure("i", f"torch.compile first epoch (compilation included), s {tag}", first,
                    note=f"an eager epoch takes {eager / setup.epochs:.1f} s")]
