"""Starting weights that ftbench does not train itself: hub weights, local files, none.

Hub weights are fetched once (or found in timm's / torch's local caches) and saved as a plain
checkpoint under ``<cache>/hub/``; every trial then loads that file like any local checkpoint.
All of it happens in the suite's preflight, so a suite that cannot get its weights fails
before anything is written, in one line that names the three ways out.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import urlparse

import timm
import torch
from timm.models import get_pretrained_cfg
from torch import nn

from benchmarks.models.backbones import create_backbone, input_size, load_checkpoint
from benchmarks.models.checkpoints import save_checkpoint
from benchmarks.models.packaged_weights import converted_state, packaged_file
from benchmarks.models.pretrain import Pretrained
from benchmarks.models.ref import BackboneRef
from benchmarks.models.tv_backbones import create_tv_backbone, tv_weights, tv_weights_file

PROBE_TIMEOUT_S = 3.0
"""How long to wait for a hub host before calling the machine offline (timm's and
torchvision's own downloaders retry for minutes before they give up)."""


def resolve_weights(ref: BackboneRef, cache_dir: Path) -> Pretrained:
    """The checkpoint and input size of a backbone whose weights are ``hub``, a file or none.

    Raises:
        ValueError: hub weights neither cached nor reachable; a missing or unfitting file.
    """
    if ref.kind == "hub":
        path, size = _hub_checkpoint(ref, cache_dir)
        meta = {"kind": "hub", "weights": ref.hub_weights if ref.source == "tv" else "hub"}
    elif ref.kind == "file":
        path, size = ref.path, _file_input_size(ref)
        meta = {"kind": "file"}
    else:
        path, size = None, input_size(create_backbone(ref.name, 1))
        meta = {"kind": "none"}
    return Pretrained(path, ref.input_size or size, {**meta, "cached": True})


def _file_input_size(ref: BackboneRef) -> int:
    """Check that the file fits the model; its input size from the sidecar ``.json``
    that ``ftbench pretrain`` writes, else the model's pretrained configuration."""
    model = create_backbone(ref.name, 2)
    load_checkpoint(model, ref.path)
    sidecar = ref.path.with_suffix(".json")
    if sidecar.is_file():
        try:
            return int(json.loads(sidecar.read_text())["input_size"])
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"checkpoint sidecar '{sidecar}': it must be JSON with an "
                             "'input_size', but it is not. Delete it or fix it.") from None
    return input_size(model)


def hub_checkpoint_path(ref: BackboneRef, cache_dir: Path) -> Path:
    """Where the hub weights of ``ref`` are kept as a plain checkpoint."""
    tag = ref.hub_weights if ref.source == "tv" else "hub"
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{ref.source}-{ref.model}-{tag}")
    return cache_dir / "hub" / f"{name}.pt"


def _hub_checkpoint(ref: BackboneRef, cache_dir: Path) -> tuple[Path, int]:
    """The saved hub checkpoint of ``ref`` (fetched first if absent) and its input size."""
    path = hub_checkpoint_path(ref, cache_dir)
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, int(json.loads(meta.read_text())["input_size"])
    model = _fetch_tv(ref) if ref.source == "tv" else _fetch_timm(ref)
    save_checkpoint(model.state_dict(), path)
    meta.write_text(json.dumps({"backbone": ref.name, "input_size": input_size(model)}))
    return path, input_size(model)


def _fetch_timm(ref: BackboneRef) -> nn.Module:
    """timm's published weights, from its local cache if there, else downloaded."""
    cfg = get_pretrained_cfg(ref.model)
    if cfg is None or not (cfg.hf_hub_id or cfg.url or cfg.file):
        raise ValueError(f"backbone '{ref.name}': hub weights must exist for it, but timm "
                         "publishes none. Use weights: ftbench, none, or a checkpoint path.")
    if packaged_file(ref.model) is not None:  # ImageNet weights installed with a package
        model = timm.create_model(ref.model, pretrained=False)
        model.load_state_dict(converted_state(ref.model, model.state_dict()))
        return model
    local = timm_local_file(ref.model)
    if local is not None:
        return timm.create_model(ref.model, pretrained=True,
                                 pretrained_cfg_overlay={"file": str(local)})
    _require_reachable(ref, "https://huggingface.co" if cfg.hf_hub_id else cfg.url or "")
    return timm.create_model(ref.model, pretrained=True)


def _fetch_tv(ref: BackboneRef) -> nn.Module:
    """torchvision's weights enum, from torch hub's cache if there, else downloaded."""
    local = tv_weights_file(ref.model, ref.hub_weights)
    if local is None or not local.exists():
        _require_reachable(ref, tv_weights(ref.model, ref.hub_weights).url)
    return create_tv_backbone(ref.model, 1000, weights=ref.hub_weights)


def timm_local_file(model: str) -> Path | None:
    """The file of timm's published weights for ``model`` if a local cache holds it."""
    cfg = get_pretrained_cfg(model)
    if cfg is None:
        return None
    if cfg.file and Path(cfg.file).exists():
        return Path(cfg.file)
    if cfg.hf_hub_id:
        from huggingface_hub import try_to_load_from_cache

        repo = cfg.hf_hub_id.split("@")[0]
        for name in filter(None, (cfg.hf_hub_filename, "model.safetensors",
                                  "open_clip_pytorch_model.bin", "pytorch_model.bin")):
            found = try_to_load_from_cache(repo, name)
            if isinstance(found, str):
                return Path(found)
    if cfg.url:
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(cfg.url).path).name
        if cached.exists():
            return cached
    return None


def _require_reachable(ref: BackboneRef, url: str) -> None:
    """Fail fast, with the three ways out, when the weights' host cannot be reached."""
    host = urlparse(url).hostname or url
    try:
        socket.create_connection((host, 443), timeout=PROBE_TIMEOUT_S).close()
    except OSError:
        raise ValueError(
            f"backbone '{ref.name}': its hub weights must be in the local cache or "
            f"downloadable, but they are not cached and {host} cannot be reached. Three ways "
            f"out: connect to the internet (they are cached for next time), give "
            f"'weights: PATH' to a local checkpoint, or run `ftbench pretrain --backbone "
            f"{ref.name}` and use the file it writes as 'weights:'."
        ) from None
