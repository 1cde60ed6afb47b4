"""Put chroma back into the sRGB gamut without touching lightness.

Clipping RGB after Lab -> RGB changes the lightness of saturated colours; instead we
shrink (a, b) towards gray per pixel, which keeps L exactly the input's.
"""

from __future__ import annotations

import torch

from .lab import lab_to_rgb

__all__ = ["lab_to_rgb_keep_lightness"]


def lab_to_rgb_keep_lightness(L: torch.Tensor, ab: torch.Tensor, steps: int = 16) -> torch.Tensor:
    """Compose L and ab into sRGB, scaling ab down where the colour would leave the gamut.

    Args:
        L: (B, 1, H, W) float CIE L in [0, 100].
        ab: (B, 2, H, W) float CIE a, b.
        steps: bisection steps for the per-pixel chroma scale (precision 2**-steps, fine
            enough that a tiny change of ab never makes a visible jump).

    Returns:
        (B, 3, H, W) sRGB in [0, 1] whose Lab lightness equals ``L``.
    """
    tol = 1e-4
    rgb = lab_to_rgb(torch.cat([L, ab], dim=1), clip=False)
    outside = ((rgb < -tol) | (rgb > 1 + tol)).any(dim=1)  # (B, H, W)
    if not bool(outside.any()):
        return rgb.clamp(0, 1)
    # Bisection, on the outside pixels only, for the largest s in [0, 1] keeping L + s*ab inside.
    Lo = L.permute(0, 2, 3, 1)[outside].T[:, :, None, None]  # (1, n, 1, 1): n pixels as a batch
    abo = ab.permute(0, 2, 3, 1)[outside].T[:, :, None, None]  # (2, n, 1, 1)
    lo = torch.zeros_like(Lo)
    hi = torch.ones_like(Lo)
    for _ in range(steps):
        mid = (lo + hi) / 2
        test = lab_to_rgb(torch.cat([Lo, abo * mid], dim=0).transpose(0, 1), clip=False)
        ok = ((test >= -tol) & (test <= 1 + tol)).all(dim=1, keepdim=True).transpose(0, 1)
        lo = torch.where(ok, mid, lo)
        hi = torch.where(ok, hi, mid)
    fixed = lab_to_rgb(torch.cat([Lo, abo * lo], dim=0).transpose(0, 1), clip=True)  # (n, 3, 1, 1)
    rgb = rgb.clamp(0, 1).permute(0, 2, 3, 1).clone()
    rgb[outside] = fixed[:, :, 0, 0].to(rgb.dtype)
    return rgb.permute(0, 3, 1, 2)
