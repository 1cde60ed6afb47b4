"""Guided chroma upsampling onto the full-resolution luminance.

A fast guided filter (He and Sun, "Fast Guided Filter", arXiv:1505.00996): fit
ab ~ A * L + B in every small window at low resolution, upsample A and B bilinearly, and
apply them to the full-resolution L, so chroma edges follow the luminance edges.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["guided_upsample", "box_mean"]


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over (2r+1)^2 windows, windows clipped at the border. x: (B, C, H, W)."""
    if radius <= 0:
        return x
    return F.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)


def guided_upsample(ab_low: torch.Tensor, guide_full: torch.Tensor, radius: int = 2, eps: float = 1e-3) -> torch.Tensor:
    """Upsample chroma guided by luminance.

    Args:
        ab_low: (B, 2, h, w) chroma at low resolution.
        guide_full: (B, 1, H, W) luminance in [0, 1] at the output resolution.
        radius: window radius at the low resolution.
        eps: regulariser; larger means smoother (closer to plain bilinear).

    Returns:
        (B, 2, H, W) chroma.
    """
    h, w = ab_low.shape[-2:]
    guide_low = F.interpolate(guide_full, size=(h, w), mode="area")
    mean_i = box_mean(guide_low, radius)
    mean_p = box_mean(ab_low, radius)
    cov = box_mean(guide_low * ab_low, radius) - mean_i * mean_p
    var = box_mean(guide_low * guide_low, radius) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    a = box_mean(a, radius)
    b = box_mean(b, radius)
    size = guide_full.shape[-2:]
    a = F.interpolate(a, size=size, mode="bilinear", align_corners=False)
    b = F.interpolate(b, size=size, mode="bilinear", align_corners=False)
    return a * guide_full + b
