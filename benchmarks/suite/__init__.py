"""The suite: a YAML file (or a built-in one in ``builtin/``) read, checked key by key with
the line of any mistake, and turned into a frozen :class:`~benchmarks.suite.model.Suite` of the
data, models, training and pruning it names. Nothing here trains or writes results.
"""

__all__ = ["file", "lists", "model", "paths", "rules", "yaml_lines"]
