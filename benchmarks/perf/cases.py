"""The in-process measurements of ``python -m benchmarks.perf.main``: (a) overhead, (b) cached
features, (c) a cached frozen prefix. Each compares variants interleaved in one process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.data.registry import load_dataset
from benchmarks.data.resize import resize_task
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.tensors import TensorData
from benchmarks.engine.training import TrainResult, train
from benchmarks.models.backbones import create_backbone, normalisation
from benchmarks.models.pretrain import PretrainConfig, checkpoint_path, default_cache_dir
from strategies import StrategyConfig, get_strategy, layer_groups
from strategies.freezing import PartialFreezeConfig

BACKBONE = "test_resnet"
"""The quickstart's backbone, at its 32-pixel input."""


@dataclass(frozen=True)
class Measure:
    """One line of the perf table."""

    key: str
    what: str
    value: float
    target: str = ""
    passed: bool | None = None
    note: str = ""


@dataclass(frozen=True)
class Setup:
    """Sizes of the in-process measurements (``--quick`` shrinks them)."""

    n_train: int = 480
    n_val: int = 96
    epochs: int = 4
    reps: int = 5
    batch_size: int = 64
    device: str = "cpu"
    precision: str = "fp32"


def checkpoint() -> Path | None:
    """The quickstart's pretrained backbone in the cache, if it was built."""
    path = checkpoint_path(PretrainConfig(), default_cache_dir())
    return path if path.exists() else None


def make_model(seed: int = 0) -> nn.Module:
    """The quickstart backbone with a 10-class head, pretrained when the cache has it."""
    torch.manual_seed(seed)
    return create_backbone(BACKBONE, 10, checkpoint())


def task_data(setup: Setup) -> TensorData:
    """``n_train`` + ``n_val`` images of the quickstart's near target (synth_near, 32 px)."""
    task = resize_task(load_dataset("synth_near"), 32)
    x, y = task.train.images, task.train.labels
    n, v = setup.n_train, setup.n_val
    mean, std = normalisation(make_model())
    return TensorData(x[:n], y[:n], x[n : n + v], y[n : n + v], mean, std)


def interleaved(variants: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Seconds every variant reports, ``reps`` times, in A B / B A order to cancel drift."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for rep in range(reps + 1):  # repetition 0 warms up and is dropped
        for name in names if rep % 2 else names[::-1]:
            seconds = variants[name]()
            if rep:
                times[name].append(seconds)
    return times


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def run_train(strategy_name: str, config: StrategyConfig, setup: Setup, data: TensorData,
              **cfg) -> TrainResult:
    """One ftbench trial on a fresh copy of the backbone."""
    model = make_model()
    strategy = get_strategy(strategy_name)(config)
    train_cfg = TrainConfig(max_epochs=setup.epochs, batch_size=setup.batch_size,
                            device=setup.device, precision=setup.precision, patience=setup.epochs,
                            **cfg)
    return train(model, strategy, layer_groups(model), data, train_cfg, seed=0)


def trial_seconds(*args, **kwargs) -> float:
    """Seconds of one ftbench trial (``TrainResult.train_time_s``: all of ``train()``)."""
    return run_train(*args, **kwargs).train_time_s


def bare_loop(setup: Setup, data: TensorData) -> float:
    """The same training in plain PyTorch (fused AdamW as ftbench uses, clipping, a validation
    pass per epoch); returns its seconds, building the model excluded as for ftbench."""
    device = torch.device(setup.device)
    model = make_model().to(device)
    t0 = time.perf_counter()
    params = list(model.parameters())  # weight decay on tensors of rank >= 2, as ftbench does
    opt = torch.optim.AdamW([{"params": [p for p in params if p.ndim >= 2]},
                             {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}],
                            lr=1e-3, weight_decay=0.01, fused=device.type in ("cpu", "cuda"))
    gen = torch.Generator().manual_seed(0)
    dtype = torch.bfloat16 if setup.precision == "bf16" else torch.float32
    for _ in range(setup.epochs):
        model.train()
        order = torch.randperm(len(data.y_train), generator=gen)
        for start in range(0, len(order), setup.batch_size):
            idx = order[start : start + setup.batch_size]
            x = data.normalise(data.x_train[idx].to(device))
            with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
                loss = F.cross_entropy(model(x).float(), data.y_train[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        model.eval()
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype,
                                             enabled=dtype != torch.float32):
            model(data.normalise(data.x_val.to(device))).argmax(1).cpu()
    return time.perf_counter() - t0


def case_a(setup: Setup, data: TensorData) -> list[Measure]:
    """(a) ftbench's train() on full_finetune against the bare loop."""
    config = StrategyConfig(lr=1e-3)
    times = interleaved({"ftbench": lambda: trial_seconds("full_finetune", config, setup, data),
                         "bare": lambda: bare_loop(setup, data)}, setup.reps)
    images = setup.n_train * setup.epochs
    ft, bare = median(times["ftbench"]), median(times["bare"])
    tag = f"[{setup.device} {setup.precision}]"
    return [Measure("a", f"train throughput ftbench / bare PyTorch {tag}", bare / ft, ">= 0.97",
                    bare / ft >= 0.97, f"{images / ft:,.0f} vs {images / bare:,.0f} images/s")]


def case_b(setup: Setup, data: TensorData, epochs: int) -> list[Measure]:
    """(b) a feature_extraction trial with cached features against the full network."""
    config = StrategyConfig(lr=3e-4)
    trial = Setup(setup.n_train, setup.n_val, epochs, setup.reps, setup.batch_size, setup.device,
                  setup.precision)
    results: dict[str, TrainResult] = {}

    def variant(cache: bool) -> Callable[[], float]:
        def go() -> float:
            results[str(cache)] = run_train("feature_extraction", config, trial, data,
                                            cache_features=cache)
            return results[str(cache)].train_time_s
        return go

    times = interleaved({"cached": variant(True), "uncached": variant(False)}, setup.reps)
    ratio = median(times["cached"]) / median(times["uncached"])
    gap = 100 * abs(results["True"].best_val_acc - results["False"].best_val_acc)
    tag = f"[{setup.device} {setup.precision}, {epochs} epochs]"
    images = setup.n_train * epochs
    return [Measure("b", f"feature_extraction time cached / uncached {tag}", ratio, "<= 0.1",
                    ratio <= 0.1, f"{images / median(times['cached']):,.0f} vs "
                    f"{images / median(times['uncached']):,.0f} images/s"),
            Measure("b", f"feature_extraction val acc gap, points {tag}", gap, "<= 0.5",
                    gap <= 0.5, f"{100 * results['True'].best_val_acc:.2f} vs "
                    f"{100 * results['False'].best_val_acc:.2f}")]


def case_c(setup: Setup, data: TensorData) -> list[Measure]:
    """(c) partial_freeze with half the blocks frozen (k = n // 2 and k = n - n // 2) against
    full fine-tuning, time per step; and k = n // 2 without its prefix cached."""
    n = layer_groups(make_model()).n_blocks
    full, cached = StrategyConfig(lr=1e-3), {}

    def partial(k: int, **cfg) -> Callable[[], float]:
        def go() -> float:
            result = run_train("partial_freeze", PartialFreezeConfig(lr=1e-3, k=k), setup, data,
                               **cfg)
            cached[k, bool(cfg)] = result.cached_blocks
            return result.train_time_s
        return go

    ks = sorted({n // 2, n - n // 2})
    variants = {f"k={k}": partial(k) for k in ks}
    variants["uncached"] = partial(n // 2, cache_features=False)
    variants["full"] = lambda: trial_seconds("full_finetune", full, setup, data)
    times = interleaved(variants, setup.reps)
    steps = setup.epochs * -(-setup.n_train // setup.batch_size)
    per_step = {name: median(t) / steps for name, t in times.items()}
    rows = []
    for k in ks:
        ratio = per_step[f"k={k}"] / per_step["full"]
        rows.append(Measure("c", f"partial_freeze k={k} of {n} / full_finetune, time per step",
                            ratio, "<= 0.6", ratio <= 0.6,
                            f"{cached[k, False]} blocks cached; {1e3 * per_step[f'k={k}']:.1f} "
                            f"vs {1e3 * per_step['full']:.1f} ms/step"))
    plain = per_step["uncached"] / per_step["full"]
    rows.append(Measure("c", f"same, k={n // 2} with cache_features: false", plain,
                        note=f"{1e3 * per_step['uncached']:.1f} ms/step"))
    return rows
