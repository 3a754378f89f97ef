"""The training engine: one trial's loop (``training``) under a strategy, with its config
(``config``), what each step runs on (``route``: images, cached features or a cached frozen
prefix, from ``features`` and ``prefix``), batch augmentation, mixed precision, the LR schedule,
the in-memory image tensors and peak-memory accounting. Knows nothing of suites, Optuna or
MLflow.
"""

__all__ = ["augment", "config", "memory", "precision", "route", "schedule", "tensors", "training"]
