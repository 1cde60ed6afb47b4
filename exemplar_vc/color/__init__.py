"""Colour spaces: sRGB <-> CIE Lab (D65) in torch, and gray + chroma -> 8-bit sRGB."""

from .compose import compose_rgb
from .gamut import lab_to_rgb_keep_lightness
from .luma import lab_to_rgb_keep_luma
from .lab import gray_to_lightness, lab_to_rgb, linear_to_srgb, rgb_to_lab, srgb_to_linear

__all__ = [
    "rgb_to_lab",
    "lab_to_rgb",
    "lab_to_rgb_keep_lightness",
    "lab_to_rgb_keep_luma",
    "compose_rgb",
    "gray_to_lightness",
    "srgb_to_linear",
    "linear_to_srgb",
]
