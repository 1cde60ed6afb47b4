"""Fidelity to the ground truth: PSNR and SSIM on RGB and on the CIE Lab ab channels.

Conventions (stated because papers differ):
- RGB: 8-bit sRGB values, data range L = 255, all three channels.
- ab: CIE Lab (D65) a and b from ``exemplar_vc.color.rgb_to_lab``, data range L = 255
  (the span of the 8-bit a/b encodings, [-128, 127]).
- A clip's score is the mean of per-frame scores. A frame's PSNR is capped at 100 dB
  (MSE floored at L^2 * 1e-10) so that an exact frame does not make the mean infinite.
- SSIM (Wang et al., IEEE TIP 2004, eq. (13)) with an 11 x 11 Gaussian window,
  sigma = 1.5, K1 = 0.01, K2 = 0.03, population (not sample) covariances, computed per
  channel over the window positions fully inside the frame (a 5-pixel border is left
  out) and averaged over channels: equal to ``skimage.metrics.structural_similarity(
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=L,
  channel_axis=-1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .frames import check_pair

__all__ = ["psnr", "ssim", "psnr_ab", "ssim_ab", "psnr_frames", "ssim_frames", "ab_frame_scores", "rgb_to_ab", "PSNR_CAP_DB"]

PSNR_CAP_DB = 100.0
_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # int(3.5 * sigma + 0.5): window 11 x 11
_K1, _K2 = 0.01, 0.03


def rgb_to_ab(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 sRGB -> (T, H, W, 2) float64 CIE Lab a and b (converted in
    float32: about 1e-4 Lab units from float64, far below the 8-bit input's step)."""
    import torch

    from ..color import rgb_to_lab

    out = np.empty(frames.shape[:3] + (2,), np.float64)
    for i, f in enumerate(frames):  # frame by frame: bounded memory
        rgb = torch.from_numpy(f).to(torch.float32).permute(2, 0, 1) / 255.0
        out[i] = rgb_to_lab(rgb)[1:].permute(1, 2, 0).numpy()
    return out


def _psnr_one(p: np.ndarray, g: np.ndarray, data_range: float) -> float:
    # PSNR = 10 log10(L^2 / MSE)
    mse = float(np.mean((p.astype(np.float64) - g.astype(np.float64)) ** 2))
    mse = max(mse, data_range**2 * 10 ** (-PSNR_CAP_DB / 10))
    return 10.0 * np.log10(data_range**2 / mse)


def _ssim_one(p: np.ndarray, g: np.ndarray, data_range: float) -> float:
    import cv2

    h, w = p.shape[:2]
    r = _SSIM_RADIUS
    if h <= 2 * r or w <= 2 * r:
        raise InputError(f"expected frames larger than {2 * r + 1}x{2 * r + 1} for SSIM, got {w}x{h}")
    k = cv2.getGaussianKernel(2 * r + 1, _SSIM_SIGMA, cv2.CV_64F)
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.sepFilter2D(x, cv2.CV_64F, k, k, borderType=cv2.BORDER_REFLECT)[r:-r, r:-r]

    scores = []
    for c in range(p.shape[2]):
        x, y = p[..., c].astype(np.float64), g[..., c].astype(np.float64)
        mx, my = blur(x), blur(y)
        vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        # SSIM, Wang et al. 2004 eq. (13)
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(s.mean())
    return float(np.mean(scores))


def _pair_in_space(pred: Any, gt: Any, space: str):
    """Checked (pred, gt) frames, as RGB or converted to their ab channels."""
    p, g = check_pair(pred, gt)
    if space == "ab":
        return rgb_to_ab(p), rgb_to_ab(g)
    if space != "rgb":
        raise InputError(f"expected space 'rgb' or 'ab', got {space!r}")
    return p, g


def psnr_frames(pred: Any, gt: Any, space: str = "rgb") -> np.ndarray:
    """(T,) per-frame PSNR in dB of ``pred`` against ``gt``, both (T, H, W, 3) uint8 RGB.

    space: "rgb" (data range 255) or "ab" (CIE Lab a, b; data range 255).
    """
    p, g = _pair_in_space(pred, gt, space)
    return np.array([_psnr_one(a, b, 255.0) for a, b in zip(p, g)])


def ssim_frames(pred: Any, gt: Any, space: str = "rgb") -> np.ndarray:
    """(T,) per-frame SSIM in [-1, 1] (1 = identical); same inputs as ``psnr_frames``."""
    p, g = _pair_in_space(pred, gt, space)
    return np.array([_ssim_one(a, b, 255.0) for a, b in zip(p, g)])


def ab_frame_scores(pred: np.ndarray, gt_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T,) PSNR and (T,) SSIM on ab of (T, H, W, 3) uint8 RGB ``pred`` against
    precomputed ground-truth ``gt_ab`` = ``rgb_to_ab(gt)`` ((T, H, W, 2)); each output
    frame is converted once for both (what ``psnr_ab`` and ``ssim_ab`` compute)."""
    if pred.shape[:3] != gt_ab.shape[:3]:
        raise InputError(f"expected pred frames {tuple(pred.shape[:3])} to match gt ab {tuple(gt_ab.shape[:3])}")
    ps, ss = np.empty(len(pred)), np.empty(len(pred))
    for t in range(len(pred)):
        a = rgb_to_ab(pred[t : t + 1])[0]
        ps[t], ss[t] = _psnr_one(a, gt_ab[t], 255.0), _ssim_one(a, gt_ab[t], 255.0)
    return ps, ss


def psnr(pred: Any, gt: Any) -> float:
    """Mean per-frame PSNR (dB) on 8-bit RGB, data range 255.

    >>> gt = np.zeros((1, 4, 4, 3), np.uint8); pred = gt + 1
    >>> round(psnr(pred, gt), 2)  # 10 log10(255^2 / 1)
    48.13
    """
    return float(psnr_frames(pred, gt).mean())


def ssim(pred: Any, gt: Any) -> float:
    """Mean per-frame SSIM on 8-bit RGB (11 x 11 Gaussian window, sigma 1.5, range 255)."""
    return float(ssim_frames(pred, gt).mean())


def psnr_ab(pred: Any, gt: Any) -> float:
    """Mean per-frame PSNR (dB) on the CIE Lab a, b channels, data range 255."""
    return float(psnr_frames(pred, gt, space="ab").mean())


def ssim_ab(pred: Any, gt: Any) -> float:
    """Mean per-frame SSIM on the CIE Lab a, b channels, data range 255."""
    return float(ssim_frames(pred, gt, space="ab").mean())
