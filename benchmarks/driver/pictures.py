"""What a strategy does to the features, saved by each cell's first final seed so that the
report can draw it from the results folder alone: the pre-logit features of a fixed,
stratified sample of test images (for a 2-D embedding) and Grad-CAM maps of a few of them.

Grad-CAM (Selvaraju et al., 2017) on the last stage: the output of ``forward_features``
(a CNN's feature map; a ViT's patch tokens, reshaped to their grid) weighted by the mean
gradient of the predicted class's logit per channel, rectified, upsampled to the image and
scaled to [0, 1]. Written to ``features/<backbone>/<dataset>/n<N>/<strategy>.npz``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.engine.tensors import TensorData

SAMPLE = 200
"""Test images embedded per cell (stratified, the same ones for every strategy)."""
CAM_IMAGES = 4
"""Test images with a Grad-CAM map per cell (one per class, the first classes)."""


def pictures_path(results_dir: Path, key: str) -> Path:
    """Where the cell called ``key`` (``backbone/dataset/nN/strategy``) keeps its pictures."""
    return results_dir / "features" / f"{key}.npz"


def sample_indices(labels: torch.Tensor, n: int = SAMPLE, seed: int = 0) -> np.ndarray:
    """A fixed stratified sample of test indices: classes take turns, each in a seeded order."""
    labels = labels.numpy()
    rng = np.random.default_rng(seed)
    queues = [list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)]
    picked: list[int] = []
    while len(picked) < min(n, len(labels)):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(int(queue.pop(0)))
    return np.array(sorted(picked))


@torch.no_grad()
def pre_logits(model: nn.Module, x: torch.Tensor, data: TensorData,
               device: torch.device) -> torch.Tensor:
    """Pre-logit features of uint8 images ``x`` in eval mode, in batches of 256."""
    model.eval()
    out = [model.forward_head(model.forward_features(data.normalise(x[i:i + 256].to(device))),
                              pre_logits=True).float().cpu() for i in range(0, len(x), 256)]
    return torch.cat(out)


def grad_cam(model: nn.Module, x: torch.Tensor, data: TensorData,
             device: torch.device) -> torch.Tensor:
    """Grad-CAM maps ``(N, H, W)`` in [0, 1] of the predicted class of uint8 images ``x``.

    A CNN's maps are the output of ``forward_features``. A ViT's patch tokens leave no
    gradient there (its head reads the class token alone), so its maps are the tokens that
    enter the last block (``model.blocks[-1]``), as pytorch-grad-cam does for ViTs.
    """
    model.eval()
    inputs = data.normalise(x.to(device))
    with torch.no_grad():
        tokens = model.forward_features(inputs[:1]).dim() == 3
    captured: dict[str, torch.Tensor] = {}
    hook = model.blocks[-1].register_forward_pre_hook(_capture(captured)) if tokens else None
    try:
        with torch.enable_grad():
            out = model.forward_features(inputs)
            maps = captured["maps"] if tokens else out
            if not tokens:  # a frozen backbone still has a gradient to its maps
                maps = out.detach().requires_grad_(True)
                out = maps
            logits = model.forward_head(out)
            score = logits.gather(1, logits.argmax(1, keepdim=True)).sum()
            grads, = torch.autograd.grad(score, maps)
    finally:
        if hook is not None:
            hook.remove()
    grid, weights = _as_grid(model, maps.detach()), _as_grid(model, grads)
    cam = F.relu((weights.mean((2, 3), keepdim=True) * grid).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.flatten(1).amax(1).clamp_min(1e-12).view(-1, 1, 1)
    return (cam / peak).cpu()


def _capture(store: dict[str, torch.Tensor]):
    """A forward pre-hook that makes a module's input a leaf with a gradient, and keeps it."""
    def hook(module: nn.Module, args: tuple) -> tuple:
        store["maps"] = args[0].detach().requires_grad_(True)
        return (store["maps"], *args[1:])
    return hook


def _as_grid(model: nn.Module, maps: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)``: a CNN's maps as they are; a ViT's tokens without its prefix tokens,
    on their square grid."""
    if maps.dim() == 4:
        return maps
    tokens = maps[:, getattr(model, "num_prefix_tokens", 0):]
    side = math.isqrt(tokens.shape[1])
    return tokens[:, : side * side].transpose(1, 2).reshape(len(maps), -1, side, side)


def save_pictures(path: Path, model: nn.Module, test_images: torch.Tensor,
                  test_labels: torch.Tensor, data: TensorData, device: torch.device) -> Path:
    """Write the cell's features of the fixed test sample and its Grad-CAM maps."""
    index = sample_indices(test_labels)
    images, labels = test_images[index], test_labels[index]
    features = pre_logits(model, images, data, device)
    firsts = [int(np.flatnonzero(labels.numpy() == c)[0]) for c in np.unique(labels.numpy())]
    cam_rows = np.array(firsts[:CAM_IMAGES])
    cams = grad_cam(model, images[cam_rows], data, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, features=features.numpy().astype(np.float16),
                        labels=labels.numpy(), index=index, cam=cams.numpy().astype(np.float16),
                        cam_images=images[cam_rows].numpy(), cam_labels=labels[cam_rows].numpy())
    tmp.replace(path)
    return path
