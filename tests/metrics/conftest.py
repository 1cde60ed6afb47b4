"""Tiny synthetic clips for the metric tests (no shared data needed)."""

from __future__ import annotations

import numpy as np
import pytest


def smooth_scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    """(h, w, 3) uint8 RGB: smooth random colour blobs with texture, good for optical flow."""
    import cv2

    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(2, h // 8), max(2, w // 8), 3), dtype=np.uint8)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


@pytest.fixture
def panning_clip() -> np.ndarray:
    """(6, 48, 64, 3) uint8 RGB: a window moving 2 px per frame across a scene."""
    scene = smooth_scene(48, 64 + 12, seed=1)
    return np.stack([scene[:, 2 * t : 2 * t + 64] for t in range(6)])
