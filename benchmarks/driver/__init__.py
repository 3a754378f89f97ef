"""The benchmark driver: the grid of cells (``grid``), each cell tuned by Optuna (``tuning``,
``storage``, ``liveness``, ``ownership``, ``seed_study``: the only modules that know Optuna;
``seeding``: each cell's sampler seed) and re-run over seeds (``cell``, ``cells_run``,
``final_run``, each seed claimed from ``seed_study``; ``interrupted``: what a process that
died left), logged to MLflow (``tracking``: the only module that knows MLflow) and written to
the results folder; the checks before a run, in one place and order (``run_start``, taking the
folder read once and the storage's studies; ``machine``, ``resume_guard``, ``ownership``), its
options (``options``), its provenance (``run_info``), worker processes, progress, the deadline
of a time-boxed run (``time_box``), and the cost table of the backbones. ``runner.run_suite``
is the entry.
"""

__all__ = [
    "cell", "cells_run", "costs_table", "dry_run", "final_run", "grid", "interrupted",
    "liveness", "machine", "options", "ownership", "pictures", "progress", "resume_guard",
    "run_info", "run_start", "runner", "seed_study", "seeding", "storage", "summary",
    "time_box", "tracking", "tuning", "workers",
]
