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
_MAX_STEPS = 10
# Steps run on every pixel while more than this share still misses, then only on those
# pixels: on real frames one or two steps leave well under 1 % of them.
_SUBSET_SHARE = 0.1
_TOLERANCE = 0.1 / 255
# Frames are composed in bands of rows of about this many pixels: every step makes a
# dozen whole-size temporaries, and at 4K those alone are hundreds of MB that the
# allocator maps afresh each time (banded: 1.8x faster at 3840x2160, 1.2x at 1920x1080;
# benchmarks/README.md, "Composing and warping at HD and 4K").
_BAND_PIXELS = 1 << 18


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) sRGB -> (..., 1, H, W) BT.601 luma (no clamping)."""
    w = torch.tensor(LUMA_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    return (rgb * w).sum(dim=-3, keepdim=True)


# XYZ (relative to white) -> linear sRGB, one row per channel, as Python floats so the
# per-pixel arithmetic below runs on single-channel tensors without a matrix product.
_XYZ_TO_LINEAR = (_XYZ_TO_RGB * _WHITE[None, :]).tolist()


def _luma_and_slope(L: torch.Tensor, ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """BT.601 luma of the unclipped sRGB of (L, a, b) and its derivative with respect to L,
    both (B, 1, H, W). Newton's method needs only these two, so the three channels are
    summed as they are made instead of being stacked (at 1920x1080 this is 2.3x faster
    than converting the whole colour and its slope and then taking their luma)."""
    a, b = ab[:, :1], ab[:, 1:]
    fy = (L + 16) / 116
    xyz, d_xyz = [], []  # d f / d L = 1/116
    for f in (fy + a / 500, fy, fy - b / 200):
        cube = f > 6 / 29
        f2 = f * f
        xyz.append(torch.where(cube, f2 * f, (116 * f - 16) / _KAPPA))
        d_xyz.append(torch.where(cube, f2 * (3 / 116), 1 / _KAPPA))
    y = d_y = torch.zeros_like(L)
    for weight, (m0, m1, m2) in zip(LUMA_WEIGHTS, _XYZ_TO_LINEAR):
        lin = m0 * xyz[0] + m1 * xyz[1] + m2 * xyz[2]
        d_lin = m0 * d_xyz[0] + m1 * d_xyz[1] + m2 * d_xyz[2]
        # sRGB transfer curve, continued below 0 by its linear part (monotone everywhere).
        power = lin > 0.0031308
        safe = lin.clamp(min=0.0031308)
        root = safe ** (1 / 2.4)
        y = y + weight * torch.where(power, 1.055 * root - 0.055, 12.92 * lin)
        d_y = d_y + weight * torch.where(power, (1.055 / 2.4) * root / safe, 12.92) * d_lin
    return y, d_y


def _newton_step(L: torch.Tensor, ab: torch.Tensor, gray: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    y, slope = _luma_and_slope(L, ab)
    miss = y - gray
    return (L - miss / slope.clamp(min=1e-4)).clamp(0, 100), miss


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
    rows = max(1, _BAND_PIXELS // (gray.shape[0] * gray.shape[-1]))
    if gray.shape[-2] <= rows:
        return _keep_luma_band(gray, ab)
    bands = [_keep_luma_band(gray[..., i : i + rows, :], ab[..., i : i + rows, :]) for i in range(0, gray.shape[-2], rows)]
    return torch.cat(bands, dim=-2)


def _keep_luma_band(gray: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    gray = gray.clamp(0, 1)
    L = gray_to_lightness(gray)
    L, miss = _newton_step(L, ab, gray)
    steps = 1
    todo = miss.abs() > _TOLERANCE
    while steps < _MAX_STEPS and float(todo.float().mean()) > _SUBSET_SHARE:
        L, miss = _newton_step(L, ab, gray)
        steps += 1
        todo = miss.abs() > _TOLERANCE
    # Saturated colours far from their neutral's lightness take a few more steps: only
    # those pixels, as a batch of 1x1 images.
    if steps < _MAX_STEPS and bool(todo.any()):
        flat = todo.flatten()
        Ls, gs = L.flatten()[flat].view(1, 1, -1, 1), gray.flatten()[flat].view(1, 1, -1, 1)
        abs_ = ab.permute(1, 0, 2, 3).reshape(2, -1)[:, flat].view(1, 2, -1, 1)
        for _ in range(_MAX_STEPS - steps):
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
