"""Tiny synthetic colour clips for the evaluation tests (no shared data needed)."""

from __future__ import annotations

import numpy as np
import pytest


def scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    """(h, w, 3) uint8 RGB: smooth colour blobs with luminance texture, desaturated to the
    level of real footage (fully saturated random colours break the luma/lightness link)."""
    import cv2

    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(2, h // 8), max(2, w // 8), 3), dtype=np.uint8)
    rgb = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    gray = rgb.mean(axis=2, keepdims=True)
    return np.clip(0.45 * rgb + 0.55 * gray, 0, 255).astype(np.uint8)


def panning(frames: int = 8, h: int = 48, w: int = 64, step: int = 2, seed: int = 0) -> np.ndarray:
    """(frames, h, w, 3) uint8 RGB: a window sliding ``step`` px per frame."""
    big = scene(h, w + step * frames, seed)
    return np.stack([big[:, t * step : t * step + w] for t in range(frames)])


@pytest.fixture
def clip() -> np.ndarray:
    return panning()


@pytest.fixture
def clip_dir(tmp_path, clip):
    """A folder holding one clip as a folder of PNG frames."""
    import cv2

    d = tmp_path / "clips" / "pan"
    d.mkdir(parents=True)
    for i, f in enumerate(clip):
        cv2.imwrite(str(d / f"{i:04d}.png"), f[..., ::-1])
    return d.parent


@pytest.fixture(scope="session")
def colorizer():
    from exemplar_vc.pipeline import VideoColorizer

    # The clips' own short side: stage 2 would upscale 48x64 clips to the default working size,
    # and these tests are about scoring, not the working size.
    return VideoColorizer.from_pretrained(device="cpu", working_size=48)
