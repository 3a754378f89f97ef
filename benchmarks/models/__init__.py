"""Backbones: how a suite names one (``ref``), building timm and torchvision models behind
one interface (``backbones``, ``tv_backbones``, ``tv_families``), where their starting weights
come from (``weights``: hub, packaged ImageNet files, local checkpoints, ftbench's own
``pretrain``), reading checkpoints (``checkpoints``), and per-backbone facts measured before a
run (``cost``, ``memory_format``). The only package that knows timm's and torchvision's model
and weight names.
"""

__all__ = [
    "backbones", "checkpoints", "cost", "listing", "memory_format", "packaged_weights",
    "pretrain", "ref", "tv_backbones", "weights",
]
