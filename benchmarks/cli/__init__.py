"""The ``ftbench`` command: argument parsing and one-line errors (``main``), and the text
of its outputs (``run_cmd``, ``status_text``, ``pretrain_cmd``, ``folder_commands``). The only
package that prints.
"""

from benchmarks.cli.commands import main

__all__ = ["commands", "folder_commands", "main", "pretrain_cmd", "run_cmd", "status_text"]
