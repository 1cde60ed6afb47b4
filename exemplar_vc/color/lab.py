"""sRGB <-> CIE Lab (D65, 2 degree observer) in torch, exact and differentiable.

Formulas: IEC 61966-2-1 for the sRGB transfer curve; CIE 15:2004 for XYZ <-> Lab.
"""

from __future__ import annotations

import torch

__all__ = ["rgb_to_lab", "lab_to_rgb", "gray_to_lightness", "srgb_to_linear", "linear_to_srgb"]

# sRGB primaries to XYZ, D65 white (IEC 61966-2-1).
_RGB_TO_XYZ = torch.tensor(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=torch.float64,
)
_XYZ_TO_RGB = torch.linalg.inv(_RGB_TO_XYZ)
# The white point is the image of RGB = (1, 1, 1), so gray maps exactly to a = b = 0.
_WHITE = _RGB_TO_XYZ.sum(dim=1)
_EPS = 216.0 / 24389.0  # CIE: (6/29)^3
_KAPPA = 24389.0 / 27.0  # CIE: (29/3)^3


def _check_channels(x: torch.Tensor, name: str) -> None:
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"expected {name} of shape (..., 3, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected a floating-point {name}, got dtype {x.dtype}")


def srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1] to linear light (IEC 61966-2-1)."""
    return torch.where(rgb > 0.04045, ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, rgb / 12.92)


def linear_to_srgb(lin: torch.Tensor) -> torch.Tensor:
    """Linear light to sRGB (IEC 61966-2-1); input below 0 stays linear."""
    return torch.where(lin > 0.0031308, 1.055 * lin.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, 12.92 * lin)


def _mix(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    m = m.to(device=x.device, dtype=x.dtype)
    return torch.einsum("ij,...jhw->...ihw", m, x)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB to CIE Lab.

    Args:
        rgb: (..., 3, H, W) float sRGB in [0, 1].

    Returns:
        (..., 3, H, W) Lab with L in [0, 100] and a, b roughly in [-128, 127].

    >>> lab = rgb_to_lab(torch.ones(1, 3, 1, 1))
    >>> [round(v, 4) for v in lab.flatten().tolist()]
    [100.0, 0.0, 0.0]
    """
    _check_channels(rgb, "rgb")
    xyz = _mix(_RGB_TO_XYZ, srgb_to_linear(rgb))
    xyz = xyz / _WHITE.to(device=rgb.device, dtype=rgb.dtype).view(3, 1, 1)
    f = torch.where(xyz > _EPS, xyz.clamp(min=_EPS) ** (1 / 3), (_KAPPA * xyz + 16) / 116)
    fx, fy, fz = f.unbind(dim=-3)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=-3)


def lab_to_rgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """CIE Lab to sRGB.

    Args:
        lab: (..., 3, H, W) float Lab.
        clip: clamp the result to [0, 1] (colours outside the sRGB gamut are clipped).

    Returns:
        (..., 3, H, W) sRGB, in [0, 1] when ``clip``.
    """
    _check_channels(lab, "lab")
    L, a, b = lab.unbind(dim=-3)
    fy = (L + 16) / 116
    fx = fy + a / 500
    fz = fy - b / 200
    f = torch.stack([fx, fy, fz], dim=-3)
    xyz = torch.where(f > 6 / 29, f**3, (116 * f - 16) / _KAPPA)
    xyz = xyz * _WHITE.to(device=lab.device, dtype=lab.dtype).view(3, 1, 1)
    rgb = linear_to_srgb(_mix(_XYZ_TO_RGB, xyz))
    return rgb.clamp(0, 1) if clip else rgb


def gray_to_lightness(gray: torch.Tensor) -> torch.Tensor:
    """Gray levels in [0, 1] (read as sRGB gray, R = G = B) to CIE L in [0, 100].

    Args:
        gray: (..., 1, H, W) or (..., H, W) float in [0, 1].
    """
    y = srgb_to_linear(gray)
    return torch.where(y > _EPS, 116 * y.clamp(min=_EPS) ** (1 / 3) - 16, _KAPPA * y)
