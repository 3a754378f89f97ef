"""What ``ftbench list backbones`` prints: buildable models and which weights are offline."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path

import timm

from benchmarks.models.packaged_weights import packaged_file
from benchmarks.models.tv_backbones import list_tv_backbones, tv_weights_file
from benchmarks.models.weights import timm_local_file

LEGEND = ("# '*' = hub weights available offline. Any timm name may also be used bare "
          "(e.g. test_resnet): ftbench then pretrains it on the suite's 'pretrain' data.")


def backbone_lines(pattern: str = "*", cache_dir: Path | None = None) -> Iterator[str]:
    """One line per backbone matching ``pattern`` (with or without its ``timm:``/``tv:``
    prefix), marked ``*`` where its hub weights are in a local cache, then ftbench's own
    checkpoints in ``cache_dir``."""
    yield LEGEND
    for name, offline in _timm(pattern):
        yield f"{'*' if offline else ' '} timm:{name}"
    for name, weights, offline in _tv(pattern):
        yield f"{'*' if offline else ' '} tv:{name}  weights: {weights}"
    if cache_dir is not None and (cache_dir / "checkpoints").is_dir():
        files = sorted((cache_dir / "checkpoints").glob("*.pt"))
        if files:
            yield f"# ftbench's own pretrained checkpoints in {cache_dir} (weights: PATH):"
            yield from (f"* {path}" for path in files)


def _matches(source: str, name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(f"{source}:{name}", pattern)


def _timm(pattern: str) -> Iterator[tuple[str, bool]]:
    """timm models with a pretrained tag (cached or not), then those with no hub weights."""
    if pattern.startswith("tv:"):
        return
    tagged = [n for n in timm.list_models(pretrained=True) if _matches("timm", n, pattern)]
    for name in tagged:
        yield name, timm_local_file(name) is not None or packaged_file(name) is not None
    with_tags = {n.split(".")[0] for n in timm.list_models(pretrained=True)}
    for name in timm.list_models():
        if name not in with_tags and _matches("timm", name, pattern):
            yield name, False


def _tv(pattern: str) -> Iterator[tuple[str, str, bool]]:
    """Supported torchvision models, each with its weights enum names."""
    if pattern.startswith("timm:"):
        return
    from torchvision.models import get_model_weights

    for name in list_tv_backbones():
        if not _matches("tv", name, pattern):
            continue
        members = [m for m in get_model_weights(name).__members__ if m != "DEFAULT"]
        offline = [m for m in members if (f := tv_weights_file(name, m)) and f.exists()]
        shown = ", ".join(f"{m}{' (offline)' if m in offline else ''}" for m in members)
        yield name, shown, bool(offline)
