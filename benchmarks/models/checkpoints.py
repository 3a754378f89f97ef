"""Reading, checking and writing local checkpoint files for any backbone (no network)."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import safetensors.torch
import torch
from torch import nn

_PREFIXES = ("module.", "_orig_mod.")
# Tried in this order; the EMA copies only when the file holds none of the plain ones.
_PLAIN_KEYS = ("state_dict", "model_state_dict", "model", "module")
_EMA_KEYS = ("state_dict_ema", "model_ema", "ema")
_EXAMPLES = 3


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What ``load_checkpoint`` did with each key that did not simply load.

    Attributes:
        missing: model keys the checkpoint does not supply (they keep their current values).
            Head keys may be here without being an error: a headless checkpoint is fine.
        unexpected: checkpoint keys the model does not have (ignored).
        dropped_head: classifier-head keys skipped because their shapes differ from the model's.
        shape_mismatch: other keys skipped because their shapes differ, as
            ``"key: (checkpoint shape) vs (model shape)"``.
    """

    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    dropped_head: tuple[str, ...] = ()
    shape_mismatch: tuple[str, ...] = ()


def load_checkpoint(model: nn.Module, path: Path | str, strict: bool = True) -> LoadReport:
    """Load a local checkpoint into ``model``, dropping a classifier head of another size.

    Reads ``.safetensors`` with safetensors and anything else with
    ``torch.load(weights_only=True)``; unwraps ``{"state_dict"|"model_state_dict"|"model"|
    "module": ...}`` (then ``"state_dict_ema"|"model_ema"|"ema"`` if none of those), strips
    ``module.``/``_orig_mod.`` prefixes, then calls ``model.adapt_state_dict(state)`` if the
    model has one. Nothing is loaded when a strict check fails.

    Args:
        model: the model to fill in place.
        path: the checkpoint file.
        strict: raise when a non-head key is missing, unexpected or of another shape; if
            False, load what fits and report the rest.

    Raises:
        ValueError: one line, if the file is missing, unreadable, holds no tensor mapping, or
            (with ``strict``) its keys do not fit ``model``.
    """
    state = read_state_dict(path)
    adapt = getattr(model, "adapt_state_dict", None)
    if callable(adapt):
        state = dict(adapt(state))
    head = _head_keys(model)
    report, loadable = _compare(model, state, head)
    if strict and (set(report.missing) - head or report.unexpected or report.shape_mismatch):
        raise ValueError(_mismatch_message(model, path, report, head))
    model.load_state_dict(loadable, strict=False)
    return report


def read_state_dict(path: Path | str) -> dict[str, torch.Tensor]:
    """The unwrapped, prefix-free state dict in ``path``, read once per file version.

    The cache is keyed by (path, size, mtime): every trial of a suite loads the same file.
    Treat the returned tensors as read-only; they are shared between callers.

    Raises:
        ValueError: if the file is missing, unreadable or holds no tensor mapping.
    """
    try:
        stat = Path(path).stat()
    except FileNotFoundError:
        raise ValueError(
            f"checkpoint '{path}': the file must exist, but it does not. "
            "Check the path, or build the checkpoint first."
        ) from None
    return dict(_read_cached(str(path), stat.st_size, stat.st_mtime_ns))


def save_checkpoint(
    model_or_state: nn.Module | Mapping[str, torch.Tensor], path: Path | str
) -> Path:
    """Write a plain state dict atomically (temporary file, then ``os.replace``), with the
    permissions a new file gets (0644 under the usual umask) whatever the format.

    ``.safetensors`` paths get a safetensors file; any other suffix gets ``torch.save``.
    Keys are written as they are (a DataParallel model's keep their ``module.`` prefix,
    which ``load_checkpoint`` strips).

    Returns:
        The path written.
    """
    path = Path(path)
    state = (
        model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    )
    state = _tensor_mapping(state, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if path.suffix == ".safetensors":
            # clone: safetensors refuses tensors that share memory (tied weights, views).
            plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
            safetensors.torch.save_file(plain, str(tmp))
        else:
            torch.save({k: v.detach().to("cpu") for k, v in state.items()}, tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # safetensors writes 0600; every format alike
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, size: int, mtime_ns: int) -> dict[str, torch.Tensor]:
    """Read and unwrap a checkpoint; the size and mtime only key the cache."""
    obj = _read_file(path)
    obj = _unwrap(obj)
    return {_strip(k): v for k, v in _tensor_mapping(obj, path).items()}


def _read_file(path: str) -> object:
    """The raw object in the file, or a one-line ValueError saying why it cannot be read."""
    try:
        if path.endswith(".safetensors"):
            return safetensors.torch.load_file(path, device="cpu")
        with warnings.catch_warnings():  # a legacy-format file: its failure says it all
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"checkpoint '{path}': the file must exist, but it does not.") from None
    except Exception as exc:  # noqa: BLE001  (torch and safetensors raise many types)
        refused = re.search(r"GLOBAL (\S+) (?:was not an allowed global|whose module)", str(exc))
        if refused:
            raise ValueError(
                f"checkpoint '{path}': it must hold only tensors and plain containers, but it "
                f"pickles '{refused.group(1)}', which weights_only=True loading refuses. "
                "Re-save it with save_checkpoint(model, path) or "
                "torch.save(model.state_dict(), path)."
            ) from None
        raise ValueError(
            f"checkpoint '{path}': it must be a torch or safetensors state dict, but reading "
            f"failed ({type(exc).__name__}; the file may be truncated or corrupt). "
            f"{_remedy(path)}"
        ) from None


def _remedy(path: str) -> str:
    """What to do with an unreadable file: ftbench's own (a ``.json`` of its making lies
    beside it in the cache) is rebuilt once deleted; a user's is saved again or replaced."""
    if Path(path).with_suffix(".json").is_file():
        return ("ftbench made it: delete it and the .json beside it, and the next run "
                "rebuilds it.")
    return ("Save it again (torch.save(model.state_dict(), path), or safetensors' save_file), "
            "or point the suite's weights: at another file.")


def _unwrap(obj: object) -> object:
    """Descend through ``{"state_dict": ...}``-style wrappers (see ``_PLAIN_KEYS``)."""
    while isinstance(obj, Mapping):
        inner = next((obj[k] for k in _PLAIN_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            inner = next((obj[k] for k in _EMA_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            return obj
        obj = inner
    return obj


def _tensor_mapping(obj: object, path: Path | str) -> dict[str, torch.Tensor]:
    """``obj`` as a ``{str: Tensor}`` dict, or a one-line ValueError naming the file."""
    if not isinstance(obj, Mapping) or not obj:
        raise ValueError(
            f"checkpoint '{path}': it must hold a non-empty mapping of names to tensors, but it "
            f"holds {_describe(obj)}. Save model.state_dict(), not the model or a list."
        )
    bad = [k for k, v in obj.items() if not (isinstance(k, str) and torch.is_tensor(v))]
    if bad:
        raise ValueError(
            f"checkpoint '{path}': every entry must map a name to a tensor, but {len(bad)} do "
            f"not (e.g. {bad[0]!r}: {_describe(obj[bad[0]])}). Save model.state_dict() alone, "
            "or wrap it as {'state_dict': ...}."
        )
    return dict(obj)


def _describe(obj: object) -> str:
    """A short description of an object for error messages."""
    if isinstance(obj, Mapping) and not obj:
        return "an empty mapping"
    return f"a value of type {type(obj).__name__}"


def _strip(key: str) -> str:
    """Remove DataParallel / torch.compile prefixes from a state-dict key."""
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix) :], True
    return key


def _head_keys(model: nn.Module) -> set[str]:
    """Names of the classifier's parameters, found by identity through ``get_classifier()``."""
    get_classifier = getattr(model, "get_classifier", None)
    if not callable(get_classifier):
        return set()
    heads = get_classifier()
    heads = heads if isinstance(heads, (tuple, list)) else (heads,)
    ids = {id(p) for head in heads if isinstance(head, nn.Module) for p in head.parameters()}
    return {name for name, p in model.named_parameters() if id(p) in ids}


def _compare(
    model: nn.Module, state: dict[str, torch.Tensor], head: set[str]
) -> tuple[LoadReport, dict[str, torch.Tensor]]:
    """The report for loading ``state`` into ``model``, and the entries that can be loaded."""
    own = model.state_dict()
    dropped, mismatch, loadable = [], [], {}
    for key, value in state.items():
        if key not in own:
            continue
        if value.shape == own[key].shape:
            loadable[key] = value
        elif key in head:
            dropped.append(key)
        else:
            mismatch.append(f"{key}: {_shape(value)} vs {_shape(own[key])}")
    report = LoadReport(
        missing=tuple(k for k in own if k not in state),
        unexpected=tuple(k for k in state if k not in own),
        dropped_head=tuple(dropped),
        shape_mismatch=tuple(mismatch),
    )
    return report, loadable


def _shape(tensor: torch.Tensor) -> str:
    """A shape as ``(3, 3)``."""
    return "(" + ", ".join(str(d) for d in tensor.shape) + ")"


def _mismatch_message(model: nn.Module, path: Path | str, report: LoadReport, head: set) -> str:
    """The one-line error for a checkpoint whose keys do not fit ``model``."""
    missing = [k for k in report.missing if k not in head]
    parts = [
        _count("missing", missing),
        _count("unexpected", report.unexpected),
        _count("with other shapes, file vs model", report.shape_mismatch),
    ]
    return (
        f"checkpoint '{path}': its keys must match {type(model).__name__}, but "
        f"{', '.join(p for p in parts if p)}. Was it saved from another architecture? "
        "Name the backbone it was saved from in the suite (backbones: - name: ...), or "
        "point weights: at a checkpoint of this backbone."
    )


def _count(what: str, keys: list[str] | tuple[str, ...]) -> str:
    """``"2 missing (e.g. a, b)"``, or ``""`` when there are none."""
    if not keys:
        return ""
    return f"{len(keys)} {what} (e.g. {', '.join(keys[:_EXAMPLES])})"
