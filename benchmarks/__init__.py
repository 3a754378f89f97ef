"""ftbench's benchmark: the packages in the order a run flows through them.

``suite`` reads what to run; ``data`` and ``models`` load the datasets and backbones it
names; ``engine`` trains one trial; ``driver`` runs the grid (Optuna, MLflow, workers) and
writes ``results``; the top-level ``report`` package reads those files; ``cli`` is the
``ftbench`` command on top. ``perf`` holds the speed measurements, aside. A package imports
only from those before it in this order: ``messages`` (shared one-line error text), ``data``,
``engine``, ``models``, ``suite``, ``results``, ``driver``, ``cli``; ``perf`` may import any
but ``cli``. ``strategies`` and ``report`` import nothing from ``driver``.
"""
