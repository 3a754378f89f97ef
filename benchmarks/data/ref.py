"""How a suite names a dataset: a registered name, its options, a label and a family."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from benchmarks.data import SizeSpec, TaskData, load_dataset
from benchmarks.data.imbalance import long_tail


@dataclass(frozen=True)
class DatasetRef:
    """One dataset entry of a suite.

    Attributes:
        name: registered dataset name (``ftbench list datasets``).
        options: options for ``load_dataset`` (``root``, ``classes``, ``image_size``, ...).
        label: the name results use (``as:`` in YAML); defaults to ``name``.
        family: ``near`` or ``far`` relative to the pretraining data, overriding the
            registry's default (e.g. the other half of a dataset whose first half pretrains).
        sizes: training sizes of this dataset, replacing the suite's ``sizes`` (a small
            dataset cannot reach the sizes of a large one); empty = the suite's.
        long_tail: make the training pool imbalanced on purpose: the largest class keeps this
            many times the images of the smallest (:mod:`benchmarks.data.imbalance`); 0 = the
            pool as it comes.
    """

    name: str
    options: tuple[tuple[str, Any], ...] = ()
    label: str = ""
    family: str = ""
    sizes: tuple[SizeSpec, ...] = ()
    long_tail: float = 0.0

    @property
    def key(self) -> str:
        """The dataset's name in results, progress and MLflow."""
        return self.label or self.name

    def load(self) -> TaskData:
        """Load the data with its options, under the suite's label and family."""
        task = load_dataset(self.name, **dict(self.options))
        if self.long_tail:
            task = long_tail(task, self.long_tail)
        return dataclasses.replace(task, name=self.key, family=self.family or task.family)

    def to_yaml(self) -> str | dict[str, Any]:
        """The YAML form (tuples left to :meth:`Suite.to_dict`): the bare name when nothing
        else is set."""
        if not (self.options or self.label or self.family or self.sizes or self.long_tail):
            return self.name
        out: dict[str, Any] = {"name": self.name, **dict(self.options)}
        if self.label:
            out["as"] = self.label
        if self.family:
            out["family"] = self.family
        if self.sizes:
            out["sizes"] = [spec.to_yaml() for spec in self.sizes]
        if self.long_tail:
            out["long_tail"] = self.long_tail
        return out


def parse_dataset(entry: Any, source: str) -> DatasetRef:
    """A DatasetRef from a YAML entry: a name, or a mapping with ``name`` and options."""
    if isinstance(entry, str):
        return DatasetRef(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError(  # noqa: TRY004  (bad user input is a ValueError, see STYLE.md)
            f"{source}: each datasets entry must be a name or a mapping with a 'name', "
            f"but got {entry!r}. Example: {{name: fashion_mnist, root: data, as: fashion}}."
        )
    rest = {k: v for k, v in entry.items()
            if k not in ("name", "as", "family", "sizes", "long_tail")}
    family = entry.get("family", "")
    if family not in ("", "near", "far"):
        raise ValueError(f"{source}: dataset family must be 'near' or 'far', but got {family!r}.")
    options = tuple(sorted((k, _frozen(v)) for k, v in rest.items()))
    sizes = parse_sizes(entry["sizes"], f"{source}: dataset '{entry['name']}'") \
        if "sizes" in entry else ()
    return DatasetRef(entry["name"], options, str(entry.get("as", "")), family, sizes,
                      _long_tail(entry.get("long_tail", 0.0), source))


def _long_tail(value: Any, source: str) -> float:
    """``long_tail``: 0 (none) or a ratio of at least 1."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not (value == 0 or 1 <= value < float("inf")):
        raise ValueError(f"{source}: long_tail must be 0 or a finite ratio >= 1 (largest class "
                         f"/ smallest), but got {value!r}. Use e.g. 10.")
    return float(value)


def parse_sizes(value: Any, source: str) -> tuple[SizeSpec, ...]:
    """Training sizes from YAML: one size or a list (forms in :mod:`benchmarks.data.sizes`)."""
    entries = value if isinstance(value, list) else [value]
    specs = []
    for entry in entries:
        try:
            specs.append(SizeSpec.parse(entry))
        except ValueError as exc:
            raise ValueError(f"{source}: sizes: {exc}") from None
    if len(set(specs)) != len(specs):
        raise ValueError(f"{source}: sizes must be distinct, but got "
                         f"{[s.label for s in specs]}. Remove the repeated size.")
    return tuple(specs)


def _frozen(value: Any) -> Any:
    """Lists to tuples, so that a reference stays hashable."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value
