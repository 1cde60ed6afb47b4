"""Small tensor helpers: uint8 frames to tensors, resizing to a working size."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["gray_tensor", "rgb_tensor", "working_shape", "resize_short_side", "resize_to"]


def gray_tensor(gray: np.ndarray) -> torch.Tensor:
    """(H, W) uint8 or uint16 (deep sources keep their precision) -> (1, 1, H, W) float32
    in [0, 1]."""
    scale = 65535.0 if gray.dtype == np.uint16 else 255.0
    return torch.from_numpy(np.ascontiguousarray(gray)).float().div_(scale)[None, None]


def rgb_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).float().div_(255.0).permute(2, 0, 1)[None]


def working_shape(h: int, w: int, short_side: int, multiple: int = 8, upscale: bool = False) -> tuple[int, int]:
    """Size with the short side near ``short_side``, rounded to ``multiple`` (stage 2 passes
    the encoder's stride, so the feature grid divides the frame exactly). Smaller inputs
    keep their size unless ``upscale``: stage 2 upscales them, so the stride-8 matches of a
    176x144 clip are not a 22x18 grid."""
    scale = short_side / min(h, w) if upscale else min(1.0, short_side / min(h, w))
    hh = max(multiple, int(round(h * scale / multiple)) * multiple)
    ww = max(multiple, int(round(w * scale / multiple)) * multiple)
    return hh, ww


def resize_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of (B, C, H, W), antialiased when shrinking."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)


def resize_short_side(x: torch.Tensor, short_side: int, multiple: int = 8) -> torch.Tensor:
    return resize_to(x, working_shape(x.shape[-2], x.shape[-1], short_side, multiple))
