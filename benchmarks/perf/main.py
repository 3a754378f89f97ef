"""Measures what makes a suite cheap, side by side in one run, against the issue's targets.

Run ``python -m benchmarks.perf.main [--only a,b,c,d,e,f] [--threads N] [--quick] [--out DIR]
[--timm-train PATH]``
(not a test: numbers depend on the machine and its load). It prints a table and writes
``perf.csv``, ``perf.json`` and ``summary.md`` to ``results/perf/``:

- (a) ftbench's ``train()`` on full_finetune against a bare PyTorch loop (same model, batch,
  data, AdamW, clipping, one validation pass per epoch): throughput ratio, target >= 0.97.
- (b) a feature_extraction trial with cached features against the full network: time ratio,
  target <= 0.1; validation accuracy within 0.5 points.
- (c) partial_freeze with half the blocks frozen (its prefix cached) against full
  fine-tuning: time per step, target <= 0.6.
- (d) epochs trained while tuning, with each pruner candidate against no pruner (same
  trials and seeds), on the quickstart and on a suite shaped like the ImageNet one
  (:mod:`benchmarks.perf.pruning`): target <= 0.5; best validation accuracy within 1 point.
- (e) the quickstart's wall time and peak RSS (``ftbench run`` in a subprocess).
- (f) with ``--timm-train PATH``: ftbench's trial throughput against timm's own
  ``train.py`` on the same model and images (:mod:`benchmarks.perf.timm_train`): target >= 1.5.
- (g) on a GPU: an ftbench trial against a bare loop at the same batch size, EfficientNet-Lite0
  at 224 px in bf16 (:mod:`benchmarks.perf.gpu`): target >= 0.9.
- (i) on a GPU: ``torch.compile`` of the bare loop against the eager one: the warm-up it costs
  and the speed it gains after (:mod:`benchmarks.perf.gpu`).
- (h) on a GPU: the 8-cell suite of issue 27, a worker sweep then the whole suite at the
  best count (:mod:`benchmarks.perf.gpu_suite`): target <= 200 s of wall time. ``hs``: the
  sweep alone; ``h`` with one ``--gpu-workers`` count: the full suite alone at that count.

Variants are timed interleaved (A B, B A, ...) and the medians are compared, which cancels
slow drifts of a shared machine's load. With CUDA, (a) and (b) are also measured on the GPU
with bf16 autocast.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.perf import cases
from benchmarks.perf import gpu as perf_gpu
from benchmarks.perf import gpu_suite as perf_gpu_suite
from benchmarks.perf import pruning as perf_pruning
from benchmarks.perf import suite as perf_suite
from benchmarks.perf import timm_train as perf_timm
from benchmarks.perf.cases import Measure, Setup


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.perf.main",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="a,b,c,d,e,f",
                        help="comma-separated cases to run (f needs --timm-train)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: steadier on a shared machine)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--out", type=Path, default=Path("results/perf"))
    parser.add_argument("--timm-train", type=Path, metavar="PATH",
                        help="timm's train.py (a pytorch-image-models clone): adds case f, "
                        "ftbench's trial throughput against timm's training loop")
    parser.add_argument("--gpu-workers", default="1,2,4,8",
                        help="worker counts of case h's sweep (default: 1,2,4,8)")
    parser.add_argument("--gpu-stop-after", metavar="DURATION",
                        help="case h: --stop-after of the full suite's run, so that a call with "
                        "a time limit still returns its numbers (e.g. 8m)")
    parser.add_argument("--device", default="cuda",
                        help="device of cases g and h (default: cuda; cpu with --quick tries "
                        "them on a CPU)")
    return parser


def measure(only: set[str], threads: int, quick: bool, timm_train: Path | None = None,
            device: str = "cuda", gpu_workers: tuple[int, ...] = (1, 2, 4, 8),
            keep: perf_gpu_suite.Keep | None = None) -> list[Measure]:
    """Every requested case, in order (f only with timm's train.py; g, h and i on
    ``device``; ``keep``: case h's logs, packed results and time box)."""
    out = measure_gpu(only, quick, device, gpu_workers, keep or perf_gpu_suite.Keep())
    if not {"a", "b", "c", "d", "e", "f"} & only:
        return out
    setup = Setup(n_train=96, n_val=32, epochs=2, reps=2) if quick else Setup()
    data = cases.task_data(setup)
    if "a" in only:
        out += cases.case_a(setup, data)
    if "b" in only:
        out += cases.case_b(setup, data, epochs=4 if quick else 30)
        if not quick:
            out += cases.case_b(setup, data, epochs=setup.epochs)
    if "c" in only:
        out += cases.case_c(setup, data)
    if torch.cuda.is_available() and {"a", "b"} & only:
        gpu = dataclasses.replace(setup, device="cuda", precision="bf16")
        out += cases.case_a(gpu, data) if "a" in only else []
        out += cases.case_b(gpu, data, epochs=30) if "b" in only else []
    if {"d", "e"} & only:
        with tempfile.TemporaryDirectory(prefix="ftbench-perf-") as tmp:
            out += perf_suite.case_e(Path(tmp), threads, quick) if "e" in only else []
            out += perf_pruning.case_d(Path(tmp), threads, quick) if "d" in only else []
    if timm_train is not None and "f" in only:
        out += perf_timm.case_f(timm_train)
    return out


def measure_gpu(only: set[str], quick: bool, device: str, workers: tuple[int, ...],
                keep: perf_gpu_suite.Keep) -> list[Measure]:
    """Cases g and h on ``device`` (``--quick``: tiny sizes, to try them on a CPU)."""
    out: list[Measure] = []
    precision = "bf16" if device.startswith("cuda") else "fp32"
    if "g" in only:
        setup = perf_gpu.GpuSetup(device=device, precision=precision)
        if quick:
            setup = perf_gpu.GpuSetup(n_train=64, n_val=32, size=64, epochs=1, reps=1,
                                      batches=(32,), device=device, precision=precision)
        out += perf_gpu.case_g(setup)
    if "i" in only:
        setup = perf_gpu.GpuSetup(device=device, precision=precision)
        if quick:
            setup = perf_gpu.GpuSetup(n_train=64, n_val=32, size=64, epochs=1, reps=1,
                                      batches=(32,), device=device, precision=precision)
        out += perf_gpu.case_i(setup, batch=setup.batches[0])
    if {"h", "hs"} & only:
        size = perf_gpu_suite.SuiteSize(device=device, precision=precision)
        if quick:
            size = perf_gpu_suite.SuiteSize((20, 40), 2, (0,), 2, 32, device, precision)
        with tempfile.TemporaryDirectory(prefix="ftbench-gpu-") as tmp:
            out += perf_gpu_suite.case_h(Path(tmp), size, workers, full="h" in only, keep=keep)
    return out


def machine() -> dict[str, object]:
    """Where the numbers come from."""
    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "processor": _cpu_model(), "python": platform.python_version(),
            "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "pretrained_backbone": str(cases.checkpoint() or "none (random weights)")}


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def table(rows: list[Measure]) -> str:
    """The measurements as a markdown table."""
    lines = ["| case | what | measured | target | pass | note |", "|---|---|---|---|---|---|"]
    for m in rows:
        verdict = {True: "pass", False: "**miss**", None: ""}[m.passed]
        lines.append(f"| {m.key} | {m.what} | {m.value:.3g} | {m.target} | {verdict} | "
                     f"{m.note} |")
    return "\n".join(lines)


def write(out: Path, rows: list[Measure], info: dict) -> None:
    """``perf.csv``, ``perf.json`` and ``summary.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "perf.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[f.name for f in dataclasses.fields(Measure)])
        writer.writeheader()
        writer.writerows(dataclasses.asdict(m) for m in rows)
    payload = {**info, "measures": [dataclasses.asdict(m) for m in rows]}
    (out / "perf.json").write_text(json.dumps(payload, indent=2) + "\n")
    head = "\n".join(f"- {k}: {v}" for k, v in info.items())
    (out / "summary.md").write_text(f"# ftbench perf\n\n{head}\n\n{table(rows)}\n")


def main(argv: list[str] | None = None) -> list[Measure]:
    """Measure, print and write; returns the measurements."""
    args = _parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    only = set(args.only.split(","))
    load_before, start = _loadavg(), time.perf_counter()
    workers = tuple(int(n) for n in args.gpu_workers.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    keep = perf_gpu_suite.Keep(args.out, args.gpu_stop_after)
    rows = measure(only, args.threads, args.quick, args.timm_train, args.device, workers, keep)
    info = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": args.quick,
            **machine(), "loadavg_before": load_before, "loadavg_after": _loadavg(),
            "seconds": round(time.perf_counter() - start, 1)}
    write(args.out, rows, info)
    print("\n".join(f"{k}: {v}" for k, v in info.items()))
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
