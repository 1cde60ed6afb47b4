"""All metrics of one output against its ground truth, by name, in one place.

``ClipScorer`` computes what depends on the ground truth only (its optical flow and
occlusion masks for the warp error, its EfficientNet feature statistics) once per clip
and reuses it for every method and protocol.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Sequence

import numpy as np

from .. import metrics as M
from ..errors import InputError

__all__ = ["METRICS", "GT_METRICS", "LOWER_IS_BETTER", "ClipScorer", "score"]

METRICS = ("psnr", "ssim", "psnr_ab", "ssim_ab", "cdc", "colorfulness", "colorfulness_ratio", "warp_error", "fd_effnet")
# Metrics of the ground truth against itself that mean something: its own temporal
# consistency (CDC, warp error: the floor real footage sets) and colourfulness (the target).
GT_METRICS = ("cdc", "colorfulness", "warp_error")
LOWER_IS_BETTER = {"cdc", "warp_error", "fd_effnet", "fid"}


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Scoring runs torch on one thread: the work is small per call, and on shared cores
    a second thread costs far more in waiting than it gains (measured 4x slower)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class ClipScorer:
    """Scores outputs against one ground truth ((T, H, W, 3) uint8 RGB).

    extra: more metrics ``{name: f(pred, gt) -> float}`` (e.g. FID with a weight file).
    """

    def __init__(self, gt: np.ndarray, extra: dict[str, Callable] | None = None):
        self.gt = M.as_frames(gt, "gt")
        self.extra = dict(extra or {})
        self._flows = None
        self._effnet = None
        self._gt_ab = None

    def _flows_once(self):
        if self._flows is None:
            self._flows = M.truth_flows(self.gt)
        return self._flows

    def _effnet_once(self):
        if self._effnet is None:
            self._effnet = M.gaussian_stats(M.effnet_features(self.gt))
        return self._effnet

    def _gt_ab_once(self) -> np.ndarray:
        from ..metrics.fidelity import rgb_to_ab

        if self._gt_ab is None:  # float32: half the memory, far finer than 8-bit input
            self._gt_ab = rgb_to_ab(self.gt).astype(np.float32)
        return self._gt_ab

    def _ab_scores(self, pred: np.ndarray) -> dict[str, float]:
        from ..metrics.fidelity import ab_frame_scores

        ps, ss = ab_frame_scores(pred, self._gt_ab_once())
        return {"psnr_ab": float(ps.mean()), "ssim_ab": float(ss.mean())}

    def error_change(self, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per pair of frames, the mean change of the colour error and the share of pixels
        where it is visible (``metrics.error_change_curves``); empty for one frame."""
        if len(self.gt) < 2:
            return np.empty(0), np.empty(0)
        return M.error_change_curves(pred, self._gt_ab_once())

    def _one(self, name: str, pred: np.ndarray) -> float:
        g, t = self.gt, len(self.gt)
        if name == "psnr":
            return M.psnr(pred, g)
        if name == "ssim":
            return M.ssim(pred, g)
        if name == "psnr_ab":
            return M.psnr_ab(pred, g)
        if name == "ssim_ab":
            return M.ssim_ab(pred, g)
        if name == "cdc":
            return M.cdc(pred) if t > max(M.CDC_STEPS) else float("nan")
        if name == "colorfulness":
            return M.colorfulness(pred)
        if name == "colorfulness_ratio":
            return M.colorfulness_ratio(pred, g)
        if name == "warp_error":
            return M.warp_error(pred, g, self._flows_once()) if t >= 2 else float("nan")
        if name == "fd_effnet":
            return M.fd_effnet(pred, g, self._effnet_once()) if t >= 2 else float("nan")
        if name in self.extra:
            return float(self.extra[name](pred, g)) if t >= 2 else float("nan")
        raise InputError(f"expected metrics among {list(METRICS) + sorted(self.extra)}, got {name!r}")

    def score(self, pred: np.ndarray, names: Sequence[str]) -> dict[str, float]:
        """{metric: value} of ``pred`` ((T, H, W, 3) uint8 RGB); NaN where the clip is too
        short for a metric (CDC needs 5 frames, warp error and Fréchet distances 2)."""
        p = M.as_frames(pred, "pred")
        if p.shape != self.gt.shape:
            raise InputError(f"expected pred of shape {tuple(self.gt.shape)} like the ground truth, got {tuple(p.shape)}")
        with _one_torch_thread():
            ab = self._ab_scores(p) if {"psnr_ab", "ssim_ab"} & set(names) else {}
            return {n: ab[n] if n in ab else float(self._one(n, p)) for n in names}

    def ground_truth(self, names: Sequence[str]) -> dict[str, float]:
        """The ground truth's own CDC, colourfulness and warp error (those among ``names``)."""
        return self.score(self.gt, [n for n in GT_METRICS if n in names])


def score(pred: np.ndarray, gt: np.ndarray, names: Sequence[str] = METRICS, extra: dict[str, Callable] | None = None) -> dict[str, float]:
    """{metric: value} of ``pred`` against ``gt`` for one output (see ``ClipScorer``).

    >>> x = np.zeros((2, 16, 16, 3), np.uint8)
    >>> score(x, x, ["psnr", "colorfulness"])
    {'psnr': 100.0, 'colorfulness': 0.0}
    """
    return ClipScorer(gt, extra).score(pred, names)
