"""True FID (Heusel et al., NeurIPS 2017) with the standard InceptionV3 weights
``pt_inception-2015-12-05`` (the PyTorch port of the TF graph, file
``pt_inception-2015-12-05-6726825d.pth``). Those weights cannot be downloaded on the
machines this project runs on and are not shipped: pass the file's path. Without it,
use ``fd_effnet`` (a Fréchet distance on EfficientNet-Lite0 features, not FID).

FID = Fréchet distance of the pool3 feature statistics (2048-d) of the two frame sets.
With T frames the covariances have rank at most T - 1: per-clip values are biased and
are comparable only at equal T.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from ..errors import InputError
from .frames import as_frames, check_pair
from .frechet import frechet_distance, gaussian_stats

__all__ = ["fid", "load_fid_inception", "inception_features"]


@functools.lru_cache(maxsize=2)
def load_fid_inception(weights: str):
    """FIDInceptionV3 with the weights in the file at ``weights`` (a state dict)."""
    import torch

    from .inception import FIDInceptionV3

    if not os.path.isfile(weights):
        raise InputError(f"expected the pt_inception-2015-12-05 weight file, but {weights!r} is not a file")
    net = FIDInceptionV3()
    state = torch.load(weights, map_location="cpu", weights_only=True)
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    unexpected = [k for k in unexpected if not k.startswith("AuxLogits.")]
    if missing or unexpected:
        raise InputError(f"expected InceptionV3 FID weights in {weights!r}; missing {missing[:5]}, unexpected {unexpected[:5]}")
    return net.eval().requires_grad_(False)


def inception_features(frames: Any, net, batch: int = 8) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB -> (T, 2048) float64 pool3 features of ``net``."""
    import torch

    x = as_frames(frames)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            t = torch.from_numpy(x[i : i + batch]).permute(0, 3, 1, 2).float() / 255.0
            out.append(net(t).double().numpy())
    return np.concatenate(out)


def fid(pred: Any, gt: Any, weights: str | os.PathLike) -> float:
    """FID between ``pred`` and ``gt`` frames ((T, H, W, 3) uint8 RGB, T >= 2) using the
    InceptionV3 weight file at ``weights``."""
    p, g = check_pair(pred, gt)
    net = load_fid_inception(os.fspath(weights))
    mu1, s1 = gaussian_stats(inception_features(p, net))
    mu2, s2 = gaussian_stats(inception_features(g, net))
    return frechet_distance(mu1, s1, mu2, s2)
