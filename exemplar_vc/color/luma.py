"""Compose a gray frame and CIE a, b into sRGB whose BT.601 luma is the gray's.

A gray frame made the standard way (``pixels.rgb_to_gray``, cv2's RGB2GRAY) holds the
luma Y' = 0.299 R' + 0.587 G' + 0.114 B' of the colour it came from, not its CIE
lightness. Reading the gray as a neutral colour's lightness is far off for saturated
colours: pure blue has Y' = 29/255, whose neutral has L = 11, while blue's L is 32. Put
the true a, b on that L and the colour comes out too dark and, once shrunk into the
gamut, dull. Here L is instead solved per pixel so that the composed colour has the
gray's luma; given a colour's own a, b, that gives the colour back (to the gray's
rounding), and the result converted to gray gives the input back.
"""

from __future__ import annotations

import torch

from .lab import _KAPPA, _WHITE, _XYZ_TO_RGB, gray_to_lightness, lab_to_rgb

__all__ = ["LUMA_WEIGHTS", "lab_to_rgb_keep_luma", "luma"]

# BT.601, as cv2.COLOR_RGB2GRAY and ``pixels.rgb_to_gray``.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
_FULL_STEPS = 3  # on every pixel; then only where the luma still misses
_MAX_STEPS = 10
_TOLERANCE = 0.1 / 255


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) sRGB -> (..., 1, H, W) BT.601 luma (no clamping)."""
    w = torch.tensor(LUMA_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    return (rgb * w).sum(dim=-3, keepdim=True)


def _rgb_and_slope(L: torch.Tensor, ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unclipped sRGB of (L, a, b) and its derivative with respect to L, both (B, 3, H, W)."""
    a, b = ab[:, :1], ab[:, 1:]
    fy = (L + 16) / 116
    f = torch.cat([fy + a / 500, fy, fy - b / 200], dim=1)
    cube = f > 6 / 29
    xyz = torch.where(cube, f**3, (116 * f - 16) / _KAPPA)
    dxyz = torch.where(cube, 3 * f**2, torch.full_like(f, 116 / _KAPPA)) / 116  # d f / d L = 1/116
    white = _WHITE.to(device=L.device, dtype=L.dtype).view(3, 1, 1)
    m = _XYZ_TO_RGB.to(device=L.device, dtype=L.dtype)
    lin = torch.einsum("ij,bjhw->bihw", m, xyz * white)
    dlin = torch.einsum("ij,bjhw->bihw", m, dxyz * white)
    # sRGB transfer curve, continued below 0 by its linear part (monotone everywhere).
    power = lin > 0.0031308
    safe = lin.clamp(min=0.0031308)
    root = safe ** (1 / 2.4)
    rgb = torch.where(power, 1.055 * root - 0.055, 12.92 * lin)
    slope = torch.where(power, (1.055 / 2.4) * root / safe, torch.full_like(lin, 12.92))
    return rgb, slope * dlin


def _newton_step(L: torch.Tensor, ab: torch.Tensor, gray: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rgb, d_rgb = _rgb_and_slope(L, ab)
    miss = luma(rgb) - gray
    slope = luma(d_rgb).clamp(min=1e-4)  # luma is linear: the slope of the luma
    return (L - miss / slope).clamp(0, 100), miss


def lab_to_rgb_keep_luma(gray: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """Compose gray luma and chroma into sRGB in [0, 1] whose luma equals ``gray``.

    L is found by Newton's method on luma(sRGB(L, a, b)) = gray, started from the gray's
    own lightness. Where the colour then lies outside the gamut it is moved towards the
    neutral of the same luma, (gray, gray, gray), just far enough to enter it; luma is
    linear in R'G'B' and its weights sum to 1, so the luma stays the gray's exactly.

    Args:
        gray: (B, 1, H, W) float luma in [0, 1].
        ab: (B, 2, H, W) float CIE a, b.

    Returns:
        (B, 3, H, W) sRGB in [0, 1].
    """
    gray = gray.clamp(0, 1)
    L = gray_to_lightness(gray)
    for _ in range(_FULL_STEPS):
        L, miss = _newton_step(L, ab, gray)
    # Saturated colours far from their neutral's lightness take a few more steps: only
    # those pixels, as a batch of 1x1 images.
    todo = miss.abs() > _TOLERANCE
    if bool(todo.any()):
        flat = todo.flatten()
        Ls, gs = L.flatten()[flat].view(1, 1, -1, 1), gray.flatten()[flat].view(1, 1, -1, 1)
        abs_ = ab.permute(1, 0, 2, 3).reshape(2, -1)[:, flat].view(1, 2, -1, 1)
        for _ in range(_MAX_STEPS - _FULL_STEPS):
            Ls, _miss = _newton_step(Ls, abs_, gs)
        L = L.flatten().clone()
        L[flat] = Ls.flatten()
        L = L.view_as(gray)
    rgb = lab_to_rgb(torch.cat([L, ab], dim=1), clip=False)  # the same curve, without the slope
    rgb = rgb + (gray - luma(rgb))  # the last small miss, as a gray shift
    # Largest k in [0, 1] with gray + k (rgb - gray) inside [0, 1] on every channel.
    over = torch.where(rgb > 1, (1 - gray) / (rgb - gray).clamp(min=1e-12), torch.ones_like(rgb))
    under = torch.where(rgb < 0, gray / (gray - rgb).clamp(min=1e-12), torch.ones_like(rgb))
    k = torch.minimum(over, under).amin(dim=1, keepdim=True).clamp(0, 1)
    return (gray + k * (rgb - gray)).clamp(0, 1)
