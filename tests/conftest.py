"""Shared fixtures: tiny synthetic clips with known colour, and one colorizer per session."""

from __future__ import annotations

import os

# One thread per process: on 2 shared cores, OpenMP threads of concurrent processes spin at
# barriers and a test can run 10x slower. Set before torch loads; subprocesses inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import exemplar_vc  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    import cv2

    coarse = rng.random((cells, cells * w // h + 1)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def textured_scene(h: int = 96, w: int = 256, seed: int = 0) -> np.ndarray:
    """(h, w, 3) uint8 RGB: a smooth chroma field over a detailed luminance texture, so
    colour is recoverable from structure, as on real footage."""
    from exemplar_vc.color import lab_to_rgb

    rng = np.random.default_rng(seed)
    L = 35 + 50 * (_smooth_noise(rng, h, w, 16) * 0.6 + _smooth_noise(rng, h, w, 4) * 0.4)
    a = 70 * (_smooth_noise(rng, h, w, 3) - 0.5)
    b = 70 * (_smooth_noise(rng, h, w, 3) - 0.5)
    lab = torch.from_numpy(np.stack([L, a, b])).double()[None]
    rgb = lab_to_rgb(lab)[0].permute(1, 2, 0).numpy()
    return np.round(rgb * 255).astype(np.uint8)


def moving_clip(frames: int = 8, size: tuple[int, int] = (96, 144), step: int = 6, seed: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB: a window sliding ``step`` pixels per frame across a scene."""
    h, w = size
    scene = textured_scene(h, w + step * frames, seed)
    return np.stack([scene[:, t * step : t * step + w] for t in range(frames)])


def to_gray(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb])


@pytest.fixture(scope="session")
def colorizer() -> exemplar_vc.VideoColorizer:
    torch.manual_seed(0)
    return exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=96)


@pytest.fixture(scope="session")
def clip_rgb() -> np.ndarray:
    return moving_clip()


@pytest.fixture(scope="session")
def clip_gray(clip_rgb) -> np.ndarray:
    return to_gray(clip_rgb)
