"""Speed and memory measurements, aside from the product: ``python -m benchmarks.perf``
times ftbench against bare PyTorch loops, timm's ``train.py`` and its own variants side by side
and writes ``results/perf/``. Not imported by anything else.
"""

__all__ = ["augment", "cases", "main", "pruning", "suite", "timm_train"]
