"""Warping error: temporal stability of an output against motion measured on the truth.

For each t >= 1, the previous output frame O_{t-1} is warped into frame t by the optical
flow from G_t to G_{t-1} computed on the ground truth (OpenCV DIS on its luminance), and

    E_t = sum_x M_t(x) ||O_t(x) - warp(O_{t-1})(x)||^2 / sum_x M_t(x)

with RGB in [0, 1] (squared L2 over the three channels) and M_t the non-occlusion mask
from a forward-backward consistency check (Lai et al., "Learning blind video temporal
consistency", ECCV 2018, Sec. 4 (warping error); mask of Sundaram et al. 2010). The clip's
warp error is the mean of E_t over t = 1..T-1. Lower is steadier; the ground truth's own
warp error is the level that real motion (flow errors, lighting) leaves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..pixels import rgb_to_gray
from .flow import consistency_mask, dis_flow, warp_backward
from .frames import check_pair

__all__ = ["warp_error", "warp_error_frames", "truth_flows"]


def truth_flows(gt: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """For t = 1..T-1: (flow from G_t to G_{t-1}, (H, W) bool non-occlusion mask), from DIS
    on the luminance of (T, H, W, 3) uint8 RGB ``gt``. Compute once, score many outputs."""
    from .frames import as_frames

    g = as_frames(gt, "gt")
    if len(g) < 2:
        raise InputError(f"expected at least 2 frames for the warp error, got {len(g)}")
    out = []
    prev_gray = rgb_to_gray(g[0])
    for t in range(1, len(g)):
        gray = rgb_to_gray(g[t])
        back, fwd = dis_flow(gray, prev_gray), dis_flow(prev_gray, gray)
        out.append((back, consistency_mask(back, fwd)))
        prev_gray = gray
    return out


def warp_error_frames(pred: Any, gt: Any, flows: list[tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """(T - 1,) warping error E_t of (T, H, W, 3) uint8 RGB ``pred`` for t = 1..T-1, with
    flow computed on ``gt`` (same shape), or taken from ``flows`` = ``truth_flows(gt)``.
    A frame with no consistent pixel gives NaN."""
    p, g = check_pair(pred, gt)
    if len(p) < 2:
        raise InputError(f"expected at least 2 frames for the warp error, got {len(p)}")
    if flows is None:
        flows = truth_flows(g)
    if len(flows) != len(p) - 1:
        raise InputError(f"expected {len(p) - 1} precomputed flows for {len(p)} frames, got {len(flows)}")
    out = np.empty(len(p) - 1)
    for t in range(1, len(p)):
        back, mask = flows[t - 1]
        warped, _ = warp_backward(p[t - 1], back)
        diff = np.sum((p[t].astype(np.float32) - warped) ** 2, axis=-1) / 255.0**2
        out[t - 1] = diff[mask].mean() if mask.any() else np.nan
    return out


def warp_error(pred: Any, gt: Any, flows: list[tuple[np.ndarray, np.ndarray]] | None = None) -> float:
    """Mean warping error of ``pred`` (T >= 2 frames, (T, H, W, 3) uint8 RGB) with flow from
    ``gt``; squared RGB distance in [0, 1] units, so in [0, 3]. Frames without consistent
    pixels are left out of the mean."""
    e = warp_error_frames(pred, gt, flows)
    return float(np.nanmean(e)) if np.isfinite(e).any() else float("nan")
