"""The memory format a backbone trains in on one device, chosen by measurement.

``train.channels_last: auto`` (the default) times a few training steps of the backbone in
each format, interleaved (A B, B A, ...), and keeps channels-last only when it is at least
:data:`MARGIN` times faster. On this project's 2-core CPU (batch 64, AdamW) channels-last
trained EfficientNet-Lite0 3.7x faster at 32 px, test_resnet 1.3x, ConvNeXt-atto 1.04x:
no single default suits every backbone. The choice is cached per model, input size, batch
size, device, torch version and thread count, so a resumed run and the workers beside it
train in the same format; ``true`` or ``false`` in the suite skips the measurement.
"""

from __future__ import annotations

import hashlib
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.models.cost import input_channels

MARGIN = 1.05
"""How much faster channels-last must train to be chosen: below it the two are within the
noise of a short measurement, and contiguous (every op's reference layout) stays."""


@dataclass(frozen=True)
class FormatChoice:
    """The memory format of one backbone's training and why.

    Attributes:
        channels_last: train in channels-last memory format.
        source: ``suite`` (set there), ``measured`` now, or ``cached`` from an earlier run.
        contiguous_img_per_s: measured training images per second, contiguous (None if not
            measured).
        channels_last_img_per_s: the same in channels-last.
    """

    channels_last: bool
    source: str
    contiguous_img_per_s: float | None = None
    channels_last_img_per_s: float | None = None

    def to_row(self) -> dict[str, object]:
        """The choice as the columns of ``backbones.csv``."""
        return {"channels_last": self.channels_last, "format_source": self.source,
                "train_img_per_s": _rounded(self.contiguous_img_per_s),
                "train_img_per_s_channels_last": _rounded(self.channels_last_img_per_s)}


def choose_format(setting: bool | str, model_fn: Callable[[], nn.Module], input_size: int,
                  batch_size: int, device: str, cache_dir: Path, model_name: str) -> FormatChoice:
    """The format to train ``model_fn()``'s backbone in: the suite's, else measured (cached).

    Args:
        setting: ``train.channels_last``: True, False or ``"auto"``.
        model_fn: builds the backbone with its head (weights do not matter for speed).
        input_size: square image side.
        batch_size: the training batch size.
        device: the training device.
        cache_dir: where measured choices are kept (``$FTBENCH_CACHE``).
        model_name: the backbone's name, part of the cache key.
    """
    if setting is not True and setting is not False:
        key = _cache_key(model_name, input_size, batch_size, device)
        path = cache_dir / "formats" / f"{key}.json"
        cached = _read(path)
        if cached is not None:
            return cached
        rates = measure_formats(model_fn, input_size, batch_size, device)
        choice = FormatChoice(rates[1] >= MARGIN * rates[0], "measured", *rates)
        _write(path, choice)
        return choice
    return FormatChoice(bool(setting), "suite")


def measure_formats(model_fn: Callable[[], nn.Module], input_size: int, batch_size: int,
                    device: str, reps: int = 3, steps: int = 2) -> tuple[float, float]:
    """Training images per second (forward, backward, fused AdamW step), contiguous then
    channels-last: the median of ``reps`` interleaved timings of ``steps`` steps each."""
    runs = {fmt: _stepper(model_fn, input_size, batch_size, device, fmt)
            for fmt in (False, True)}
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for rep in range(reps + 1):  # repetition 0 warms up and is dropped
        for fmt in (False, True) if rep % 2 else (True, False):
            took = runs[fmt](steps)
            if rep:
                seconds[fmt].append(took)
    return tuple(steps * batch_size / statistics.median(seconds[fmt]) for fmt in (False, True))


def _stepper(model_fn: Callable[[], nn.Module], input_size: int, batch_size: int,
             device: str, channels_last: bool) -> Callable[[int], float]:
    """A function that runs ``n`` training steps in one format and returns their seconds."""
    torch.manual_seed(0)
    model = model_fn().to(device).train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=fmt)
    fused = {"fused": True} if torch.device(device).type in ("cpu", "cuda") else {}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, **fused)
    x = torch.randn(batch_size, input_channels(model), input_size, input_size, device=device)
    x = x.contiguous(memory_format=fmt)
    y = torch.randint(0, model.num_classes, (batch_size,), device=device)

    def run(n: int) -> float:
        _sync(device)
        start = time.perf_counter()
        for _ in range(n):
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        _sync(device)
        return time.perf_counter() - start

    return run


def _sync(device: str) -> None:
    """Wait for queued GPU work, so that wall time measures it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _cache_key(model_name: str, input_size: int, batch_size: int, device: str) -> str:
    """What decides which format is faster: the model, sizes, hardware and torch build."""
    where = torch.cuda.get_device_name(device) if torch.device(device).type == "cuda" \
        else platform.processor() or platform.machine()
    facts = [model_name, input_size, batch_size, device, where, torch.__version__,
             torch.get_num_threads()]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:16]


def _read(path: Path) -> FormatChoice | None:
    """A cached choice, marked as such; None if absent or unreadable (then measured again)."""
    try:
        saved = json.loads(path.read_text())
        return FormatChoice(bool(saved["channels_last"]), "cached",
                            saved["contiguous_img_per_s"], saved["channels_last_img_per_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, choice: FormatChoice) -> None:
    """Keep a measured choice (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(choice), indent=1))
    tmp.replace(path)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
