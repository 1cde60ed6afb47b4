"""Pixel conversions in one place: bit depth to 8 bits, colour to gray, channel layout.

Every reader, loader, metric and baseline of the package goes through these, so a frame
means the same thing wherever it enters:

- ``to_uint8``: uint8 as is; uint16 rounded to the nearest 8-bit level (x / 257); float
  read as [0, 1] and rounded (x * 255). Clipping is the same everywhere: float values
  less than ``FLOAT_TOLERANCE`` outside [0, 1] (rounding noise of float pipelines) are
  clipped; anything further out, NaN or infinity raises ``InputError`` (the data is on
  another scale, e.g. floats in 0..255, and clipping would silently whiten it).
- ``rgb_to_gray``: ITU-R BT.601 luma, exactly ``cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)``
  (the same as ``COLOR_BGR2GRAY`` on the BGR order, the NTIRE 2023 protocol).
- ``as_channels_last``: torch tensors are channels-first by convention and are moved to
  channels-last numpy; numpy arrays are always read as channels-last.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError

__all__ = ["FLOAT_TOLERANCE", "to_uint8", "rgb_to_gray", "to_gray", "to_rgb", "as_channels_last"]

# How far outside [0, 1] a float image may stray and still be clipped rather than refused:
# well above float32 rounding noise, far below any real mistake of scale.
FLOAT_TOLERANCE = 1e-3
_CHANNELS = (1, 3, 4)


def to_uint8(arr: np.ndarray, what: str = "image") -> np.ndarray:
    """uint8, uint16 or float in [0, 1] -> uint8 of the same shape (see the module doc).

    >>> to_uint8(np.array([0, 128, 65535], np.uint16)).tolist()
    [0, 0, 255]
    >>> to_uint8(np.array([0.0, 0.5, 1.0005])).tolist()
    [0, 128, 255]
    """
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        # round(x / 257): x / 257 is never exactly halfway, so floor((x + 128) / 257) rounds.
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        if arr.size:
            lo, hi = float(np.min(arr)), float(np.max(arr))
            if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -FLOAT_TOLERANCE or hi > 1 + FLOAT_TOLERANCE:
                raise InputError(f"expected {what} as float in [0, 1], got values in [{lo:.3g}, {hi:.3g}]")
        return np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)
    raise InputError(f"expected {what} as uint8, uint16 or float in [0, 1], got dtype {arr.dtype}")


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) uint8 RGB -> (..., H, W) uint8 BT.601 luma, as cv2.COLOR_RGB2GRAY.

    >>> rgb_to_gray(np.array([[[255, 0, 0]]], np.uint8)).tolist()  # 0.299 * 255
    [[76]]
    """
    import cv2

    if rgb.ndim < 3 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"expected (H, W, 3) uint8 RGB, got {tuple(rgb.shape)} {rgb.dtype}")
    if rgb.ndim == 3:
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    # A stack: the conversion is per pixel, so frames can be laid one under the other.
    h, w = rgb.shape[-3:-1]
    flat = np.ascontiguousarray(rgb).reshape(-1, w, 3)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY).reshape(rgb.shape[:-1])


def to_gray(frame: np.ndarray, what: str = "frame") -> np.ndarray:
    """(H, W), (H, W, 1) or (H, W, 3|4) RGB(A), uint8/uint16/float -> (H, W) uint8 luminance."""
    frame = to_uint8(np.asarray(frame), what)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    if frame.ndim == 3 and frame.shape[2] in (3, 4):
        return rgb_to_gray(frame[..., :3])
    raise InputError(f"expected {what} of shape (H, W) or (H, W, 3), got {tuple(frame.shape)}")


def to_rgb(frame: np.ndarray, what: str = "frame") -> np.ndarray:
    """(H, W), (H, W, 1) or (H, W, 3|4), uint8/uint16/float -> (H, W, 3) uint8 RGB; gray
    is replicated, alpha dropped."""
    frame = to_uint8(np.asarray(frame), what)
    if frame.ndim == 2:
        frame = frame[..., None]
    if frame.ndim != 3 or frame.shape[2] not in _CHANNELS:
        raise InputError(f"expected {what} of shape (H, W) or (H, W, 3), got {tuple(frame.shape)}")
    if frame.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(frame, 3, axis=2))
    return np.ascontiguousarray(frame[..., :3])


def as_channels_last(x: Any) -> np.ndarray:
    """A numpy array, channels last. A torch tensor is moved to the CPU and, when its axis
    -3 holds 1, 3 or 4 channels and its last axis does not, read as channels-first
    ((C, H, W) or (T, C, H, W)) and transposed. Numpy input is returned as is.

    >>> import torch
    >>> as_channels_last(torch.zeros(2, 3, 5, 7)).shape
    (2, 5, 7, 3)
    """
    if hasattr(x, "detach"):  # torch
        t = x.detach().cpu()
        if t.dim() >= 3 and t.shape[-3] in _CHANNELS and t.shape[-1] not in _CHANNELS:
            t = t.movedim(-3, -1)
        return t.numpy()
    return np.asarray(x)
