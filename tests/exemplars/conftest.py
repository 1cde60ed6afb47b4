"""Shared fixtures: one pretrained encoder per session and synthetic colour scenes."""

import cv2
import numpy as np
import pytest

from exemplar_vc.modeling.encoder import LuminanceEncoder


@pytest.fixture(scope="session")
def encoder():
    return LuminanceEncoder()


def scene(seed: int, h: int = 96, w: int = 128) -> np.ndarray:
    """A distinct (H, W, 3) uint8 RGB scene: a smooth coloured background with shapes."""
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(6):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), int(rng.integers(6, 30)), colour, -1)
        else:
            cv2.rectangle(img, (x, y), (x + int(rng.integers(8, 50)), y + int(rng.integers(8, 40))), colour, -1)
    return img


@pytest.fixture(scope="session")
def scene_dir(tmp_path_factory):
    """A folder of 6 synthetic colour PNGs plus a text file (to be ignored)."""
    d = tmp_path_factory.mktemp("scenes")
    for i in range(6):
        cv2.imwrite(str(d / f"scene{i}.png"), scene(i)[..., ::-1])
    (d / "notes.txt").write_text("not an image")
    return d
