"""Put chroma back into the sRGB gamut without touching lightness.

Clipping RGB after Lab -> RGB changes the lightness of saturated colours; instead we
shrink (a, b) towards gray per pixel, which keeps L exactly the input's.
"""

from __future__ import annotations

import torch

from .lab import lab_to_rgb

__all__ = ["lab_to_rgb_keep_lightness"]


def lab_to_rgb_keep_lightness(L: torch.Tensor, ab: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """Compose L and ab into sRGB, scaling ab down where the colour would leave the gamut.

    Args:
        L: (B, 1, H, W) float CIE L in [0, 100].
        ab: (B, 2, H, W) float CIE a, b.
        steps: bisection steps for the per-pixel chroma scale (2**-steps precision).

    Returns:
        (B, 3, H, W) sRGB in [0, 1] whose Lab lightness equals ``L``.
    """
    lo = torch.zeros_like(L)
    hi = torch.ones_like(L)
    tol = 1e-4
    rgb = lab_to_rgb(torch.cat([L, ab], dim=1), clip=False)
    inside = ((rgb >= -tol) & (rgb <= 1 + tol)).all(dim=1, keepdim=True)
    if bool(inside.all()):
        return rgb.clamp(0, 1)
    # Bisection on the largest scale s in [0, 1] keeping L + s*ab inside the gamut.
    for _ in range(steps):
        mid = (lo + hi) / 2
        test = lab_to_rgb(torch.cat([L, ab * mid], dim=1), clip=False)
        ok = ((test >= -tol) & (test <= 1 + tol)).all(dim=1, keepdim=True)
        lo = torch.where(ok, mid, lo)
        hi = torch.where(ok, hi, mid)
    scale = torch.where(inside, torch.ones_like(lo), lo)
    return lab_to_rgb(torch.cat([L, ab * scale], dim=1), clip=True)
