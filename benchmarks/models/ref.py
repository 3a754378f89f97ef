"""How a suite names a backbone: a timm or torchvision model and the weights to start from.

Forms (a name, or a mapping with ``name`` and the optional keys below):

* ``test_resnet``: a timm model that ftbench pretrains itself on the suite's ``pretrain``
  data (offline; the default weights of a bare name are ``ftbench``).
* ``timm:resnet50.a1_in1k``: a timm model and pretrained tag; its hub weights by default.
* ``tv:resnet50``: a torchvision model; its ``DEFAULT`` weights enum by default, or
  ``weights: IMAGENET1K_V1`` (any enum name).
* ``weights:`` ``ftbench`` (pretrain with ftbench), ``hub`` (timm's or torchvision's
  published weights), ``none`` (random initialisation), a torchvision enum name, or the
  path of a local checkpoint (``.pt``, ``.pth``, ``.bin``, ``.safetensors``).
* ``input_size:`` the square input side, overriding what the weights say.
* ``as:`` the backbone's name in results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOURCES = ("timm", "tv")
KINDS = ("ftbench", "hub", "none", "file")
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors")


@dataclass(frozen=True)
class BackboneRef:
    """One backbone entry of a suite.

    Attributes:
        name: the model as written: ``test_resnet``, ``timm:<name>[.<tag>]`` or ``tv:<name>``.
        weights: ``""`` (the default of the name's form), ``ftbench``, ``hub``, ``none``, a
            torchvision weights enum name, or a checkpoint path.
        label: the name results use (``as:``); defaults to ``name``.
        input_size: square input side overriding the weights' own; None = theirs.
    """

    name: str
    weights: str = ""
    label: str = ""
    input_size: int | None = None

    @property
    def source(self) -> str:
        """``tv`` for torchvision models, else ``timm``."""
        return "tv" if self.name.startswith("tv:") else "timm"

    @property
    def model(self) -> str:
        """The library's own model name (prefix removed)."""
        return self.name.split(":", 1)[1] if self.name.startswith(("tv:", "timm:")) else self.name

    @property
    def key(self) -> str:
        """The backbone's name in results, progress and MLflow."""
        return self.label or self.name

    @property
    def kind(self) -> str:
        """Where the starting weights come from: ``ftbench``, ``hub``, ``none`` or ``file``."""
        weights = self.weights or ("hub" if ":" in self.name else "ftbench")
        if weights in ("ftbench", "hub", "none"):
            return weights
        if self.source == "tv" and _is_enum_name(weights):
            return "hub"
        return "file"

    @property
    def hub_weights(self) -> str:
        """The torchvision enum name of ``hub`` weights (``DEFAULT`` unless one is named)."""
        return self.weights if self.kind == "hub" and self.weights not in ("", "hub") \
            else "DEFAULT"

    @property
    def path(self) -> Path:
        """The checkpoint file of ``file`` weights, with ``~`` expanded."""
        return Path(self.weights).expanduser()

    def to_yaml(self) -> str | dict[str, Any]:
        """The YAML form: the bare name when nothing else is set."""
        if not (self.weights or self.label or self.input_size):
            return self.name
        out: dict[str, Any] = {"name": self.name}
        if self.weights:
            out["weights"] = self.weights
        if self.input_size:
            out["input_size"] = self.input_size
        if self.label:
            out["as"] = self.label
        return out


def _is_enum_name(text: str) -> bool:
    """``IMAGENET1K_V2``, ``DEFAULT`` or ``ResNet50_Weights.IMAGENET1K_V1``: no path."""
    return ("/" not in text and "\\" not in text and not text.endswith(CHECKPOINT_SUFFIXES)
            and text.replace(".", "_").replace("_", "").isalnum())


def parse_backbone(entry: Any, source: str) -> BackboneRef:
    """A BackboneRef from a YAML entry (a name, or a mapping with ``name``)."""
    if isinstance(entry, str):
        return _checked(BackboneRef(entry), source)
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ValueError(  # noqa: TRY004  (bad user input is a ValueError, see STYLE.md)
            f"{source}: each backbones entry must be a name or a mapping with a 'name', but got "
            f"{entry!r}. Example: {{name: 'timm:resnet50.a1_in1k', weights: hub, as: r50}}."
        )
    unknown = sorted(set(entry) - {"name", "weights", "input_size", "as"})
    if unknown:
        raise ValueError(f"{source}: backbone '{entry['name']}' keys must be among name, "
                         f"weights, input_size, as, but got {unknown}.")
    size = entry.get("input_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 8):
        raise ValueError(f"{source}: backbone '{entry['name']}' input_size must be an integer "
                         f">= 8, but got {size!r}. Example: input_size: 224.")
    ref = BackboneRef(entry["name"], str(entry.get("weights") or ""), str(entry.get("as", "")),
                      size)
    return _checked(ref, source)


def _checked(ref: BackboneRef, source: str) -> BackboneRef:
    """Reject a prefix that is neither ``timm:`` nor ``tv:``."""
    if ":" in ref.name and ref.name.split(":", 1)[0] not in SOURCES:
        raise ValueError(f"{source}: backbone '{ref.name}' must be a timm name, 'timm:<name>' "
                         f"or 'tv:<name>', but its prefix is '{ref.name.split(':')[0]}'.")
    return ref
