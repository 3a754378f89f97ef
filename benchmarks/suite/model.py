"""Benchmark suites: the YAML schema, built-in suites, and loading with clear errors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from benchmarks.data import SizeSpec
from benchmarks.data.ref import DatasetRef
from benchmarks.engine.augment import AugmentConfig
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.loss import LossConfig
from benchmarks.messages import did_you_mean
from benchmarks.models.pretrain import PretrainConfig
from benchmarks.models.ref import BackboneRef
from benchmarks.suite.file import builtin_suites, parse_suite, read_suite
from benchmarks.suite.lists import (
    read_entries,
    read_epochs_by_size,
    read_sequence,
    read_sizes,
)
from benchmarks.suite.paths import resolve_paths
from benchmarks.suite.rules import Where, check_scalar, hints
from benchmarks.suite.yaml_lines import KeyPath, Lines, line_of

REGIMES = ("<1k", "1k-10k", ">10k")
"""The guideline's data-size rows (shared GUIDELINES.md section 1)."""

__all__ = ["REGIMES", "PrunerConfig", "Suite", "builtin_suites", "load_suite", "suite_from_dict"]


@dataclass(frozen=True)
class PrunerConfig:
    """Optuna pruner on per-epoch validation accuracy.

    Attributes:
        type: ``median`` (a trial stops when below the median of earlier trials at the same
            epoch), ``successive_halving`` (asynchronous successive halving: a trial goes on
            past epoch ``min_resource * reduction_factor**k`` only when in the top
            ``1 / reduction_factor`` there), ``hyperband`` (several successive-halving
            brackets), or ``none``.
        n_startup_trials: median: trials that are never pruned.
        n_warmup_steps: median: epochs before a trial can be pruned.
        min_resource: successive_halving and hyperband: epochs every trial runs.
        reduction_factor: successive_halving and hyperband: how selective each rung is.
    """

    type: str = "median"
    n_startup_trials: int = 2
    n_warmup_steps: int = 2
    min_resource: int = 1
    reduction_factor: int = 3


@dataclass(frozen=True)
class Suite:
    """A benchmark grid: backbones x datasets x sizes x strategies, and how to tune each cell.

    Attributes:
        name: suite name; results go to ``results/<name>/``.
        backbones: backbone entries (:mod:`benchmarks.models.ref`): a timm name that
            ftbench pretrains, ``timm:<name>[.<tag>]`` or ``tv:<name>`` with hub weights, or
            a mapping with ``name``, ``weights`` (``ftbench``, ``hub``, ``none``, an enum
            name or a checkpoint path), ``input_size`` and ``as``.
        datasets: registered dataset names, or mappings with ``name``, options such as
            ``root`` or ``classes``, ``as`` (the name in results) and ``family``.
        sizes: training-set sizes, each a count (``500``), a per-class count
            (``"10/class"``), a fraction of the training pool (``"15%"``, TLlib's protocol)
            or ``"all"`` (:mod:`benchmarks.data.sizes`); a dataset entry may give its own
            ``sizes``. Validation is carved from the pool in addition.
        size_scale: how the sizes map onto the guideline's regimes: a size n stands for
            n / size_scale samples (1.0 = sizes are taken literally).
        strategies: registered strategy names.
        trials: Optuna trials per cell (the same budget for every strategy).
        seeds: seeds of the final re-runs of each cell's best configuration.
        seeds_within_reach: more final seeds, run in every cell of a backbone x dataset x
            size whose guideline verdict ``seeds`` left inconclusive but within reach: about
            ``len(seeds) + len(seeds_within_reach)`` seeds would resolve it at the observed
            mean and spread (:mod:`benchmarks.results.reach`). Empty: none.
        sampler_seed: seed of the TPE sampler.
        val_fraction: validation size as a fraction of the training size.
        pretrain: how ftbench pretrains the backbone (its own offline weights).
        train: how every trial trains.
        epochs_by_size: epoch budget per training size as written in ``sizes`` (``30``,
            ``"15%"``, ``all``), overriding ``train.max_epochs`` (small sizes are cheap per
            epoch and need more epochs to take enough steps).
        pruner: the pruner on per-epoch validation accuracy.
        margin: the practical margin of the report's verdicts, as accuracy (0.01 = one
            point): a strategy within it of the best agrees
            (:mod:`benchmarks.results.verdicts`). It decides no number, so a changed margin
            is no changed suite.
    """

    name: str
    backbones: tuple[BackboneRef, ...]
    datasets: tuple[DatasetRef, ...]
    sizes: tuple[SizeSpec, ...]
    strategies: tuple[str, ...]
    trials: int = 6
    seeds: tuple[int, ...] = (0, 1, 2)
    seeds_within_reach: tuple[int, ...] = ()
    sampler_seed: int = 0
    size_scale: float = 1.0
    val_fraction: float = 0.2
    description: str = ""
    margin: float = 0.01
    epochs_by_size: dict[SizeSpec, int] = field(default_factory=dict)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    pruner: PrunerConfig = field(default_factory=PrunerConfig)

    def regime(self, n_train: int) -> str:
        """The guideline row a training size falls in, after scaling."""
        equivalent = n_train / self.size_scale
        if equivalent < 1000:
            return REGIMES[0]
        return REGIMES[1] if equivalent <= 10000 else REGIMES[2]

    def sizes_of(self, dataset: DatasetRef) -> tuple[SizeSpec, ...]:
        """The sizes a dataset runs at: its own ``sizes``, else the suite's."""
        return dataset.sizes or self.sizes

    def train_config(self, size: SizeSpec) -> TrainConfig:
        """The training configuration of cells of size ``size``."""
        epochs = self.epochs_by_size.get(size, self.train.max_epochs)
        return dataclasses.replace(self.train, max_epochs=epochs)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of lists and scalars, as it would be written in YAML."""
        bare = dataclasses.replace(self, sizes=(), epochs_by_size={}, datasets=(), backbones=())
        out = dataclasses.asdict(bare)
        out["backbones"] = [ref.to_yaml() for ref in self.backbones]
        out["sizes"] = [spec.to_yaml() for spec in self.sizes]
        out["epochs_by_size"] = {k.to_yaml(): v for k, v in self.epochs_by_size.items()}
        out["datasets"] = [ref.to_yaml() for ref in self.datasets]
        return _plain(out)


SECTIONS = {"pretrain": PretrainConfig, "train": TrainConfig, "pruner": PrunerConfig}
"""The top-level keys that hold a mapping of a config's fields."""


def load_suite(name_or_path: str) -> Suite:
    """Load a built-in suite by name, or a user's suite from a YAML path; a suite file's
    relative paths are read from its folder (:mod:`benchmarks.suite.paths`).

    Raises:
        ValueError: unknown suite, unreadable YAML, or an invalid field; one line that
            starts with the file (and ``FILE:LINE`` of the key or list item at fault).
    """
    text, source, folder = read_suite(name_or_path)
    data, lines = parse_suite(text, source)
    suite = suite_from_dict(data, source, lines)
    return resolve_paths(suite, folder)


def suite_from_dict(data: Any, source: str = "suite", lines: Lines | None = None) -> Suite:
    """Validate a parsed YAML mapping and build a :class:`Suite`.

    Args:
        data: the parsed YAML.
        source: where it came from (a file, a built-in suite); every error starts with it.
        lines: the line of each key path (:func:`benchmarks.suite.yaml_lines.load_with_lines`);
            errors then start with ``source:LINE`` of the key or list item at fault.
    """
    where = _locator(source, lines)
    if not isinstance(data, dict):
        raise ValueError(  # noqa: TRY004  (bad user input is a ValueError, see STYLE.md)
            f"{where(())}: it must be a YAML mapping, but got {type(data).__name__}."
        )
    _check_keys(data, Suite, (), where)
    kwargs = {key: _field(key, value, where) for key, value in data.items()}
    for required in ("name", "backbones", "datasets", "sizes", "strategies"):
        if required not in kwargs:
            raise ValueError(f"{where(())}: the key '{required}' must be present, but is "
                             "missing.")
    suite = Suite(**kwargs)
    _check_values(suite, data, where)
    return suite


def _locator(source: str, lines: Lines | None) -> Where:
    """``source:LINE`` of a key path (its deepest known prefix), or ``source`` without lines."""
    if lines is None:
        return lambda path: source
    return lambda path: f"{source}:{line_of(lines, path)}"


def _field(key: str, value: Any, where: Where) -> Any:
    """One top-level key, checked and converted; errors name its line (or its item's)."""
    if key in SECTIONS:
        return _section(SECTIONS[key], value, (key,), where)
    if key in ("datasets", "backbones"):
        return read_entries(key, value, where)
    if key == "sizes":
        return read_sizes(value, ("sizes",), where)
    if key == "epochs_by_size":
        return read_epochs_by_size(value, where)
    if key in ("strategies", "seeds", "seeds_within_reach"):
        return read_sequence(key, value, where)
    check_scalar(hints(Suite)[key], value, (key,), where)
    return value


def _check_keys(data: dict, cls: type, path: KeyPath, where: Where) -> None:
    """Reject keys that are not fields of ``cls``, naming the closest valid ones."""
    valid = [f.name for f in dataclasses.fields(cls)]
    owner = f"'{'.'.join(path)}': " if path else ""
    for key in data:
        if key not in valid:
            hint = did_you_mean(key, valid, n=2)
            raise ValueError(f"{where((*path, key))}: {owner}key '{key}' must be one of "
                             f"{', '.join(valid)}, but is unknown.{hint}")


def _section(cls: type, value: Any, path: KeyPath, where: Where) -> Any:
    """A nested mapping (``train``, ``pretrain``, ``pruner``, ``train.augment``) as ``cls``."""
    if not isinstance(value, dict):
        raise ValueError(  # noqa: TRY004  (bad user input is a ValueError, see STYLE.md)
            f"{where(path)}: '{'.'.join(path)}' must be a mapping, but got {value!r}.")
    _check_keys(value, cls, path, where)
    fields = {}
    for key, item in value.items():
        if hints(cls)[key] in (AugmentConfig, LossConfig) and isinstance(item, dict):
            item = _section(hints(cls)[key], item, (*path, key), where)
        check_scalar(hints(cls)[key], item, (*path, key), where)
        _located(where((*path, key)), cls, {key: item})  # the field's own __post_init__ checks
        fields[key] = item
    return _located(where(path), cls, fields)


def _located(at: str, cls: type, kwargs: dict[str, Any]) -> Any:
    """``cls(**kwargs)``, its errors as one ``ValueError`` line that starts with ``at``."""
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise ValueError(" ".join(f"{at}: {exc}".split())) from None


def _check_values(suite: Suite, data: dict, where: Where) -> None:
    """Checks across fields (single fields are checked as they are read)."""
    _check_unique("backbones", [ref.key for ref in suite.backbones], where)
    _check_unique("datasets", [ref.key for ref in suite.datasets], where)
    if not suite.sizes:
        raise ValueError(f"{where(('sizes',))}: sizes must list at least one size, but it is "
                         "empty. Example: sizes: [30, '10/class', '15%', all].")
    written = {spec for ref in suite.datasets for spec in suite.sizes_of(ref)}
    unknown = [raw for raw in data.get("epochs_by_size", {})
               if SizeSpec.parse(raw) not in written]
    if unknown:
        raise ValueError(f"{where(('epochs_by_size', unknown[0]))}: epochs_by_size keys must "
                         f"be among the sizes {sorted(s.label for s in written)}, but got "
                         f"{[SizeSpec.parse(raw).label for raw in unknown]}.")
    both = [s for s in suite.seeds_within_reach if s in suite.seeds]
    if both:
        index = suite.seeds_within_reach.index(both[0])
        raise ValueError(f"{where(('seeds_within_reach', index))}: seeds_within_reach must "
                         f"differ from seeds {list(suite.seeds)}, but {both[0]} is in both. "
                         "Use seeds after them, e.g. seeds: [0, 1, 2] and "
                         "seeds_within_reach: [3, 4].")
    train = suite.train
    if "warmup_epochs" in data.get("train", {}) and train.warmup_epochs >= train.max_epochs:
        raise ValueError(f"{where(('train', 'warmup_epochs'))}: train.warmup_epochs < "
                         f"train.max_epochs must hold, but got {train.warmup_epochs} and "
                         f"{train.max_epochs}. Warm up for fewer epochs (0 = no warm-up).")


def _check_unique(key: str, names: list[str], where: Where) -> None:
    """Backbone or dataset names must differ; the error names the first repeat (its ``as``)."""
    for index, name in enumerate(names):
        if name in names[:index]:
            raise ValueError(f"{where((key, index, 'as'))}: {key[:-1]} names must be unique, "
                             f"but got {names}. Give repeated {key} distinct 'as:' names.")


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, for YAML output."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
