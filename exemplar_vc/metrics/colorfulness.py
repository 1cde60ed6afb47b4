"""Colourfulness of Hasler and Suesstrunk, "Measuring colourfulness in natural images"
(SPIE Human Vision and Electronic Imaging, 2003), the metric M^(3) of their eq. (3) on
8-bit sRGB values:

    rg = R - G,  yb = (R + G) / 2 - B
    M  = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)

0 for a gray image; natural photos score roughly 15 to 110. Washed-out colorizations
score well below their ground truth: ``colorfulness_ratio`` (pred / gt) shows it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .frames import as_frames, check_pair

__all__ = ["colorfulness", "colorfulness_frames", "colorfulness_ratio"]


def colorfulness_frames(frames: Any) -> np.ndarray:
    """(T,) colourfulness of each of (T, H, W, 3) uint8 RGB frames."""
    x = as_frames(frames)
    out = np.empty(len(x))
    for i, f in enumerate(x):
        r, g, b = (f[..., c].astype(np.float64) for c in range(3))
        rg, yb = r - g, 0.5 * (r + g) - b
        # Hasler and Suesstrunk 2003, eq. (3)
        out[i] = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
    return out


def colorfulness(frames: Any) -> float:
    """Mean colourfulness over frames of (T, H, W, 3) uint8 RGB.

    >>> colorfulness(np.full((2, 4, 4, 3), 128, np.uint8))
    0.0
    >>> red = np.zeros((1, 2, 2, 3), np.uint8); red[..., 0] = 100
    >>> round(colorfulness(red), 3)  # 0.3 * sqrt(100^2 + 50^2)
    33.541
    """
    return float(colorfulness_frames(frames).mean())


def colorfulness_ratio(pred: Any, gt: Any) -> float:
    """colorfulness(pred) / colorfulness(gt): 1 is as colourful as the truth, below 1 is
    washed out. NaN when the ground truth has no colour at all."""
    p, g = check_pair(pred, gt)
    target = colorfulness(g)
    return float(colorfulness(p) / target) if target > 0 else float("nan")
