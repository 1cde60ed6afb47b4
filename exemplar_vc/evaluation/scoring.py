"""All metrics of one output against its ground truth, by name, in one place."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .. import metrics as M
from ..errors import InputError

__all__ = ["METRICS", "GT_METRICS", "LOWER_IS_BETTER", "score", "score_ground_truth"]

# name -> f(pred, gt) -> float; (T, H, W, 3) uint8 RGB each.
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "psnr": M.psnr,
    "ssim": M.ssim,
    "psnr_ab": M.psnr_ab,
    "ssim_ab": M.ssim_ab,
    "cdc": lambda p, g: M.cdc(p),
    "colorfulness": lambda p, g: M.colorfulness(p),
    "colorfulness_ratio": M.colorfulness_ratio,
    "warp_error": M.warp_error,
    "fd_effnet": M.fd_effnet,
}
# Metrics of the ground truth against itself that mean something: its own temporal
# consistency (CDC, warp error: the floor real footage sets) and colourfulness (the target).
GT_METRICS = ("cdc", "colorfulness", "warp_error")
LOWER_IS_BETTER = {"cdc", "warp_error", "fd_effnet", "fid"}


def _usable(name: str, t: int) -> bool:
    if name == "cdc":
        return t > max(M.CDC_STEPS)
    if name in ("warp_error", "fd_effnet", "fid"):
        return t >= 2
    return True


def score(pred: np.ndarray, gt: np.ndarray, names: Sequence[str], extra: dict[str, Callable] | None = None) -> dict[str, float]:
    """{metric: value} of ``pred`` against ``gt``; metrics a clip is too short for are NaN."""
    table = dict(METRICS, **(extra or {}))
    unknown = [n for n in names if n not in table]
    if unknown:
        raise InputError(f"expected metrics among {sorted(table)}, got {unknown}")
    return {n: (float(table[n](pred, gt)) if _usable(n, len(gt)) else float("nan")) for n in names}


def score_ground_truth(gt: np.ndarray, names: Sequence[str]) -> dict[str, float]:
    """The ground truth's own CDC, colourfulness and warp error (those among ``names``)."""
    return score(gt, gt, [n for n in GT_METRICS if n in names])
