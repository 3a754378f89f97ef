"""``python -m benchmarks.cli``: the ``ftbench`` command."""

import sys

from benchmarks.cli.commands import main

sys.exit(main())
