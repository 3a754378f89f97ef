"""Building timm backbones and loading checkpoints into them (the one place that knows timm)."""

from __future__ import annotations

import difflib
import functools
from pathlib import Path

import timm
import torch
from torch import nn

_PREFIXES = ("module.", "_orig_mod.")


def check_backbone_name(name: str) -> None:
    """Raise a clear ValueError unless timm can build ``name``."""
    if timm.is_model(name):
        return
    close = difflib.get_close_matches(name, timm.list_models(), n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ValueError(
        f"backbone '{name}': it must be a timm model name, but timm has no such model.{hint} "
        "(`python -c \"import timm; print(timm.list_models('*resnet*'))\"` lists them.)"
    )


def create_backbone(name: str, num_classes: int, checkpoint: Path | None = None) -> nn.Module:
    """A timm model with a fresh ``num_classes`` head, optionally loaded from a checkpoint.

    Args:
        name: timm model name.
        num_classes: size of the new classification head.
        checkpoint: a state-dict file written by ``torch.save``; None keeps random weights.
    """
    check_backbone_name(name)
    model = timm.create_model(name, pretrained=False, num_classes=num_classes)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    return model


def load_checkpoint(model: nn.Module, path: Path) -> None:
    """Load a backbone checkpoint, dropping head keys whose shapes do not fit ``model``.

    Loads with ``weights_only=True``; strips ``module.``/``_orig_mod.`` prefixes.

    Raises:
        ValueError: if the file is missing or unreadable, or non-head keys do not match.
    """
    state = _read_state_dict(path)
    own = model.state_dict()
    head = {f"{model.default_cfg.get('classifier', 'fc')}.{k}" for k in ("weight", "bias")}
    state = {k: v for k, v in state.items() if not (k in head and v.shape != own[k].shape)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k not in head]
    if missing or unexpected:
        raise ValueError(
            f"checkpoint '{path}': its keys must match the model, but {len(missing)} are "
            f"missing (e.g. {missing[:3]}) and {len(unexpected)} unexpected "
            f"(e.g. {unexpected[:3]}). Was it saved from another architecture?"
        )


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a state dict (possibly wrapped in ``{'state_dict': ...}``), prefixes removed.

    Files are read once per process and version (path, size, mtime); every trial of a suite
    loads the same checkpoint.
    """
    try:
        stat = Path(path).stat()
    except FileNotFoundError:
        raise ValueError(f"checkpoint '{path}': the file must exist, but it does not.") from None
    return _read_cached(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, size: int, mtime_ns: int) -> dict[str, torch.Tensor]:
    """Read and unwrap a checkpoint; the size and mtime only key the cache."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"checkpoint '{path}': the file must exist, but it does not.") from None
    except Exception as exc:  # noqa: BLE001  (torch raises many types for corrupt files)
        raise ValueError(
            f"checkpoint '{path}': it must be a torch state dict, but loading failed "
            f"({type(exc).__name__}). Delete it to rebuild, or point to another file."
        ) from None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    return {_strip(k): v for k, v in obj.items()}


def _strip(key: str) -> str:
    """Remove DataParallel / torch.compile prefixes from a state-dict key."""
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix) :], True
    return key


def normalisation(model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The mean and std the model expects, from its pretrained configuration."""
    cfg = model.pretrained_cfg
    return tuple(cfg.get("mean", (0.5, 0.5, 0.5))), tuple(cfg.get("std", (0.5, 0.5, 0.5)))
