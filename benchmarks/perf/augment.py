"""Prints the throughput (images/s) of every named augmentation on a 256x3x32x32 uint8 batch.

Run with ``python -m benchmarks.perf.augment [--threads N]`` (not a test: numbers depend on the
machine). On a shared or busy CPU, pass ``--threads 1``: these small ops can run many times
slower when torch's threads compete with other processes.
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.engine.augment import AUGMENTATIONS, AugmentConfig, make_augment


def images_per_second(name: str, batch: int = 256, side: int = 32, repeats: int = 20) -> float:
    """Median images/s of augmentation ``name`` over ``repeats`` calls, after one warm-up."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch, 3, side, side), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (batch,), generator=generator)
    augment = make_augment(AugmentConfig(name), num_classes=10)
    augment(images, labels, generator)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        augment(images, labels, generator)
        times.append(time.perf_counter() - start)
    return batch / sorted(times)[len(times) // 2]


def main() -> None:
    """Print one line per augmentation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    torch.set_num_threads(parser.parse_args().threads)
    print(f"torch threads: {torch.get_num_threads()}; batch 256x3x32x32 uint8, CPU")
    for name in AUGMENTATIONS:
        print(f"{name:>12}: {images_per_second(name):>12,.0f} images/s")


if __name__ == "__main__":
    main()
