"""Benchmark suites: the YAML schema, built-in suites, and loading with clear errors."""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from benchmarks.backbone_ref import BackboneRef, parse_backbone
from benchmarks.data import SizeSpec
from benchmarks.dataset_ref import DatasetRef, parse_dataset, parse_sizes
from benchmarks.pretrain import PretrainConfig
from benchmarks.training import TrainConfig

REGIMES = ("<1k", "1k-10k", ">10k")
"""The guideline's data-size rows (shared GUIDELINES.md section 1)."""


@dataclass(frozen=True)
class PrunerConfig:
    """Optuna pruner on per-epoch validation accuracy."""

    type: str = "median"
    n_startup_trials: int = 2
    n_warmup_steps: int = 2


@dataclass(frozen=True)
class Suite:
    """A benchmark grid: backbones x datasets x sizes x strategies, and how to tune each cell.

    Attributes:
        name: suite name; results go to ``results/<name>/``.
        backbones: backbone entries (:mod:`benchmarks.backbone_ref`): a timm name that
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
        sampler_seed: seed of the TPE sampler.
        val_fraction: validation size as a fraction of the training size.
        pretrain: how ftbench pretrains the backbone (its own offline weights).
        train: how every trial trains.
        epochs_by_size: epoch budget per training size as written in ``sizes`` (``30``,
            ``"15%"``, ``all``), overriding ``train.max_epochs`` (small sizes are cheap per
            epoch and need more epochs to take enough steps).
        pruner: the pruner on per-epoch validation accuracy.
    """

    name: str
    backbones: tuple[BackboneRef, ...]
    datasets: tuple[DatasetRef, ...]
    sizes: tuple[SizeSpec, ...]
    strategies: tuple[str, ...]
    trials: int = 6
    seeds: tuple[int, ...] = (0, 1, 2)
    sampler_seed: int = 0
    size_scale: float = 1.0
    val_fraction: float = 0.2
    description: str = ""
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


def builtin_suites() -> list[str]:
    """Names of the suites shipped with ftbench."""
    files = resources.files("benchmarks") / "suites"
    return sorted(p.name[: -len(".yaml")] for p in files.iterdir() if p.name.endswith(".yaml"))


def load_suite(name_or_path: str) -> Suite:
    """Load a built-in suite by name, or a user's suite from a YAML path.

    Raises:
        ValueError: unknown suite, unreadable YAML, or an invalid field.
    """
    path = Path(name_or_path)
    if name_or_path in builtin_suites():
        text = (resources.files("benchmarks") / "suites" / f"{name_or_path}.yaml").read_text()
        source = f"built-in suite '{name_or_path}'"
    elif path.suffix in (".yaml", ".yml") and path.is_file():
        text, source = path.read_text(), str(path)
    else:
        valid = builtin_suites()
        close = difflib.get_close_matches(name_or_path, valid, n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"suite '{name_or_path}': it must be a built-in suite ({', '.join(valid)}) or an "
            f"existing .yaml file, but it is neither.{hint}"
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"suite {source}: it must be valid YAML, but {exc}".replace("\n", " "))
    return suite_from_dict(data, source)


def suite_from_dict(data: Any, source: str = "suite") -> Suite:
    """Validate a parsed YAML mapping and build a :class:`Suite`."""
    if not isinstance(data, dict):
        raise ValueError(  # noqa: TRY004  (bad user input is a ValueError, see STYLE.md)
            f"{source}: it must be a YAML mapping, but got {type(data).__name__}."
        )
    _check_keys(data, Suite, source)
    nested = {"pretrain": PretrainConfig, "train": TrainConfig, "pruner": PrunerConfig}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in nested:
            if not isinstance(value, dict):
                raise ValueError(f"{source}: '{key}' must be a mapping, but got {value!r}.")
            _check_keys(value, nested[key], f"{source}: '{key}'")
            kwargs[key] = nested[key](**value)
        elif key == "datasets":
            entries = value if isinstance(value, list) else [value]
            kwargs[key] = tuple(parse_dataset(entry, source) for entry in entries)
        elif key == "sizes":
            kwargs[key] = parse_sizes(value, source)
        elif key == "epochs_by_size":
            kwargs[key] = _parse_epochs(value, source)
        elif key == "backbones":
            entries = value if isinstance(value, list) else [value]
            kwargs[key] = tuple(parse_backbone(entry, source) for entry in entries)
        elif key in ("strategies", "seeds"):
            kwargs[key] = tuple(value) if isinstance(value, list) else (value,)
        else:
            kwargs[key] = value
    for required in ("name", "backbones", "datasets", "sizes", "strategies"):
        if required not in kwargs:
            raise ValueError(f"{source}: the key '{required}' must be present, but is missing.")
    suite = Suite(**kwargs)
    _check_values(suite, source)
    return suite


def _check_keys(data: dict, cls: type, source: str) -> None:
    """Reject keys that are not fields of ``cls``, naming the closest valid ones."""
    valid = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=2)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise ValueError(
                f"{source}: key '{key}' must be one of {', '.join(valid)}, but is unknown.{hint}"
            )


def _parse_epochs(value: Any, source: str) -> dict[SizeSpec, int]:
    """``epochs_by_size``: a mapping from sizes as written in ``sizes`` to epoch budgets."""
    if not isinstance(value, dict):
        raise ValueError(  # noqa: TRY004  (bad user input is a ValueError, see STYLE.md)
            f"{source}: 'epochs_by_size' must be a mapping such as "
            f"{{30: 30, '15%': 8, all: 4}}, but got {value!r}.")
    out = {}
    for key, epochs in value.items():
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"{source}: epochs_by_size[{key!r}] must be an integer >= 1, "
                             f"but got {epochs!r}.")
        try:
            out[SizeSpec.parse(key)] = epochs
        except ValueError as exc:
            raise ValueError(f"{source}: epochs_by_size: {exc}") from None
    return out


def _check_values(suite: Suite, source: str) -> None:
    """Range checks that need no registry (names are checked by the runner's preflight)."""
    if not isinstance(suite.trials, int) or suite.trials < 1:
        raise ValueError(f"{source}: trials >= 1 must hold, but got {suite.trials!r}.")
    if not suite.seeds:
        raise ValueError(f"{source}: seeds must list at least one seed, but it is empty.")
    if not suite.size_scale > 0:
        raise ValueError(f"{source}: size_scale > 0 must hold, but got {suite.size_scale!r}.")
    names = [ref.key for ref in suite.backbones]
    if len(set(names)) != len(names):
        raise ValueError(f"{source}: backbone names must be unique, but got {names}. "
                         "Give repeated backbones distinct 'as:' names.")
    keys = [ref.key for ref in suite.datasets]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{source}: dataset names must be unique, but got {keys}. "
                         "Give repeated datasets distinct 'as:' names.")
    if not suite.sizes:
        raise ValueError(f"{source}: sizes must list at least one size, but it is empty. "
                         "Example: sizes: [30, '10/class', '15%', all].")
    written = {spec for ref in suite.datasets for spec in suite.sizes_of(ref)}
    unknown = [k.label for k in suite.epochs_by_size if k not in written]
    if unknown:
        raise ValueError(f"{source}: epochs_by_size keys must be among the sizes "
                         f"{sorted(s.label for s in written)}, but got {unknown}.")
    if suite.train.max_epochs < 1:
        raise ValueError(f"{source}: train.max_epochs >= 1 must hold, but got "
                         f"{suite.train.max_epochs!r}.")


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, for YAML output."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
