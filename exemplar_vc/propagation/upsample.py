"""Chroma upsampling from the feature grid onto the full-resolution luminance.

Two methods, chosen by ``PropagationConfig.upsample``:
- "bilinear": plain bilinear interpolation of the chroma;
- "guided": bilinear, then refined by a guided filter (He, Sun and Tang, "Guided Image
  Filtering", TPAMI 2013) with the full-resolution L as guide, so chroma edges snap to
  luminance edges. Box means use summed-area tables: O(1) per pixel for any radius.
``benchmarks/upsampling.py`` measures both on real footage; the default follows it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..resize import resize_to

__all__ = ["box_mean", "guided_filter", "upsample_chroma"]


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over (2r+1)^2 windows, windows clipped at the border. x: (B, C, H, W)."""
    if radius <= 0:
        return x
    H, W = x.shape[-2:]
    table = F.pad(x.double(), (1, 0, 1, 0)).cumsum(-2).cumsum(-1)
    ys, xs = torch.arange(H, device=x.device), torch.arange(W, device=x.device)
    y0, y1 = (ys - radius).clamp(0, H), (ys + radius + 1).clamp(0, H)
    x0, x1 = (xs - radius).clamp(0, W), (xs + radius + 1).clamp(0, W)
    rows1, rows0 = table[..., y1, :], table[..., y0, :]
    total = rows1[..., x1] - rows0[..., x1] - rows1[..., x0] + rows0[..., x0]
    count = (y1 - y0).view(-1, 1) * (x1 - x0).view(1, -1)
    return (total / count).to(x.dtype)


def guided_filter(p: torch.Tensor, guide: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """Filter p (B, C, H, W) guided by guide (B, 1, H, W) in [0, 1] (He et al. 2013, eq. 5-8)."""
    mean_i = box_mean(guide, radius)
    mean_p = box_mean(p, radius)
    a = (box_mean(guide * p, radius) - mean_i * mean_p) / (box_mean(guide * guide, radius) - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    return box_mean(a, radius) * guide + box_mean(b, radius)


def upsample_chroma(ab_low: torch.Tensor, guide_full: torch.Tensor, method: str = "bilinear", radius: int = 8, eps: float = 1e-3) -> torch.Tensor:
    """Chroma brought to the guide's size: upsampled, or shrunk (antialiased) for an input
    below the working size.

    Args:
        ab_low: (B, 2, h, w) chroma at the feature grid.
        guide_full: (B, 1, H, W) luminance in [0, 1] at the output resolution.
        method: "bilinear" or "guided".
        radius, eps: guided-filter window radius (full-resolution pixels) and regulariser.

    Returns:
        (B, 2, H, W) chroma.
    """
    up = resize_to(ab_low, tuple(guide_full.shape[-2:]))
    if method == "bilinear":
        return up
    if method == "guided":
        return guided_filter(up, guide_full, radius, eps)
    raise ValueError(f"expected upsample method 'bilinear' or 'guided', got {method!r}")
