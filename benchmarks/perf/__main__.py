"""``python -m benchmarks.perf``: the speed and memory measurements."""

from benchmarks.perf.main import main

main()
