"""The last step of every colorization: a frame's own gray plus predicted chroma, as
8-bit sRGB. The pipeline, the image colorizer and the evaluation baselines all call
``compose_rgb``, so they round and handle the gamut the same way.
"""

from __future__ import annotations

import numpy as np
import torch

from .gamut import lab_to_rgb_keep_lightness
from .lab import gray_to_lightness
from .luma import lab_to_rgb_keep_luma

__all__ = ["COMPOSE_KEEPS", "compose_rgb", "compose_float"]

COMPOSE_KEEPS = ("luma", "lightness")


def compose_float(gray: torch.Tensor, ab: torch.Tensor, keep: str = "luma") -> torch.Tensor:
    """Gray (B, 1, H, W) in [0, 1] plus CIE a, b (B, 2, H, W) -> (B, 3, H, W) float sRGB in
    [0, 1], unrounded, keeping the gray's luma or lightness (``compose_rgb``)."""
    if keep == "luma":
        return lab_to_rgb_keep_luma(gray, ab)
    return lab_to_rgb_keep_lightness(gray_to_lightness(gray), ab)


def _check(x: torch.Tensor, channels: int, name: str) -> None:
    if x.dim() != 4 or x.shape[:2] != (1, channels) or not x.is_floating_point():
        raise ValueError(f"expected {name} as a float tensor of shape (1, {channels}, H, W), got {tuple(x.shape)} {x.dtype}")


def compose_rgb(gray_or_L: torch.Tensor | np.ndarray, ab: torch.Tensor | np.ndarray, *, is_lightness: bool = False, keep: str = "luma") -> np.ndarray:
    """Gray plus chroma -> (H, W, 3) uint8 sRGB that keeps the gray's luma (or lightness).

    keep="luma" (the default): the colour's BT.601 luma is the gray's, so the result
    converted to gray is the input again, and a colour's own a, b on its own gray give
    the colour back (``lab_to_rgb_keep_luma``). keep="lightness": the colour's CIE L is
    the gray's read as a neutral, the chroma shrunk towards gray where L + ab leaves the
    gamut (``lab_to_rgb_keep_lightness``; how every output was made before luma was
    kept: saturated colours came out too dark and dull, benchmarks/README.md). Then RGB
    in [0, 1] is scaled by 255 and rounded half to even.

    Args:
        gray_or_L: torch (1, 1, H, W) float: gray in [0, 1] (read as sRGB gray, R = G = B),
            or CIE L in [0, 100] when ``is_lightness``; or numpy (H, W) uint8 gray.
        ab: torch (1, 2, H, W) float CIE a, b on the same device (with a torch
            ``gray_or_L``); numpy (H, W, 2) float CIE a, b (with a numpy gray).
        is_lightness: ``gray_or_L`` is already CIE L (torch only; needs keep="lightness").
        keep: "luma" or "lightness", as above.

    Returns:
        (H, W, 3) uint8 sRGB numpy array (on the CPU).

    >>> gray = np.full((2, 3), 128, np.uint8)
    >>> compose_rgb(gray, np.zeros((2, 3, 2), np.float32))[0, 0].tolist()  # gray stays gray
    [128, 128, 128]
    """
    if keep not in COMPOSE_KEEPS:
        raise ValueError(f"expected keep in {COMPOSE_KEEPS}, got {keep!r}")
    if is_lightness and keep != "lightness":
        raise ValueError("expected keep='lightness' with is_lightness=True: the luma of a lightness alone is unknown")
    if isinstance(gray_or_L, np.ndarray):
        if is_lightness:
            raise ValueError("expected is_lightness=False with a numpy (H, W) uint8 gray; pass CIE L as a (1, 1, H, W) tensor")
        if gray_or_L.ndim != 2 or gray_or_L.dtype != np.uint8:
            raise ValueError(f"expected gray as an (H, W) uint8 array, got {gray_or_L.shape} {gray_or_L.dtype}")
        ab = np.asarray(ab)
        if ab.shape != gray_or_L.shape + (2,):
            raise ValueError(f"expected ab of shape {gray_or_L.shape + (2,)} for a gray of {gray_or_L.shape}, got {ab.shape}")
        gray_or_L = torch.from_numpy(np.ascontiguousarray(gray_or_L)).float().div_(255.0)[None, None]
        ab = torch.from_numpy(np.ascontiguousarray(ab, np.float32)).permute(2, 0, 1)[None]
    _check(gray_or_L, 1, "L" if is_lightness else "gray")
    _check(ab, 2, "ab")
    if gray_or_L.shape[-2:] != ab.shape[-2:]:
        raise ValueError(f"expected ab of size {tuple(gray_or_L.shape[-2:])} like the lightness, got {tuple(ab.shape[-2:])}")
    rgb = lab_to_rgb_keep_lightness(gray_or_L, ab) if is_lightness else compose_float(gray_or_L, ab, keep)
    return (rgb[0].permute(1, 2, 0) * 255.0).round_().to(torch.uint8).cpu().numpy()
