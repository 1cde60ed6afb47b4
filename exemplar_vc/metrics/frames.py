"""Turn what a metric receives into (T, H, W, 3) uint8 RGB frames.

Accepted: numpy arrays or torch tensors of shape (T, H, W, 3) uint8 RGB (a single
(H, W, 3) frame counts as T = 1), uint16 or float in [0, 1] (converted to 8 bits by
``exemplar_vc.pixels.to_uint8``), torch tensors (T, 3, H, W), and paths to a video file
or a folder of frames.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import InputError
from ..pixels import as_channels_last, to_uint8

__all__ = ["as_frames", "check_pair"]


def as_frames(x: Any, what: str = "frames") -> np.ndarray:
    """Any supported input -> (T, H, W, 3) uint8 RGB numpy array.

    >>> as_frames(np.zeros((2, 4, 5, 3), np.uint8)).shape
    (2, 4, 5, 3)
    >>> int(as_frames(np.ones((4, 5, 3))).max())
    255
    """
    if isinstance(x, (str, os.PathLike)):
        from ..io import open_video

        frames = list(open_video(x).rgb_frames())
        if not frames:
            raise InputError(f"expected {what} in {os.fspath(x)!r}, found no frames")
        return np.stack(frames)
    if hasattr(x, "detach"):  # torch tensor
        x = as_channels_last(x)
    if not isinstance(x, np.ndarray):
        raise InputError(f"expected {what} as a (T, H, W, 3) uint8 array, a tensor or a path, got {type(x).__name__}")
    if x.ndim == 3 and x.shape[-1] == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise InputError(f"expected {what} of shape (T, H, W, 3) RGB, got {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] == 0:
        raise InputError(f"expected at least one non-empty frame in {what}, got shape {tuple(x.shape)}")
    return to_uint8(x, what)


def check_pair(pred: Any, gt: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs as frames, checked to have the same shape."""
    p, g = as_frames(pred, "pred"), as_frames(gt, "gt")
    if p.shape != g.shape:
        raise InputError(f"expected pred and gt of the same shape, got {tuple(p.shape)} and {tuple(g.shape)}")
    return p, g
