"""Synthetic clips from still photos: shape, determinism, motion, borders, occluders, folder reading."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.training import synthetic_clip, synthetic_clips_from_folder
from exemplar_vc.training.synthetic import _trim_bars

SIZE = (64, 112)


def _smooth(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    coarse = rng.random((cells, cells * w // h + 1)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _photo(seed: int = 0, h: int = 120, w: int = 200) -> np.ndarray:
    """Green-blue texture, red kept low and nothing dark: red pixels can only come from an
    overlay, and black ones only from sampling outside the photo."""
    rng = np.random.default_rng(seed)
    r = 40 + 50 * _smooth(rng, h, w, 12)
    g = 100 + 130 * (0.6 * _smooth(rng, h, w, 16) + 0.4 * _smooth(rng, h, w, 4))
    b = 100 + 130 * _smooth(rng, h, w, 6)
    return np.round(np.dstack([r, g, b])).astype(np.uint8)


def _overlay(seed: int = 1) -> np.ndarray:
    """Bright red texture, unlike anything in ``_photo``."""
    rng = np.random.default_rng(seed)
    h, w = 90, 90
    r = 200 + 50 * _smooth(rng, h, w, 6)
    gb = 40 + 40 * _smooth(rng, h, w, 6)
    return np.round(np.dstack([r, gb, gb])).astype(np.uint8)


def _red(clip: np.ndarray) -> np.ndarray:
    c = clip.astype(np.int16)
    return (c[..., 0] > 160) & (c[..., 1] < 120) & (c[..., 2] < 120)


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b).mean())


def test_shape_and_dtype():
    clip = synthetic_clip(_photo(), 7, SIZE, np.random.default_rng(0), [_overlay()])
    assert clip.shape == (7, *SIZE, 3) and clip.dtype == np.uint8
    # A photo smaller than the output and a single frame work too.
    assert synthetic_clip(_photo(h=40, w=50), 1, SIZE, np.random.default_rng(0)).shape == (1, *SIZE, 3)


def test_same_seed_same_clip_other_seed_other_clip():
    photo, ov = _photo(), [_overlay()]
    a = synthetic_clip(photo, 6, SIZE, np.random.default_rng(3), ov)
    b = synthetic_clip(photo, 6, SIZE, np.random.default_rng(3), ov)
    c = synthetic_clip(photo, 6, SIZE, np.random.default_rng(4), ov)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_motion_is_gradual():
    """Consecutive frames differ, and by much less than the first and last of a moving clip."""
    photo = _photo()
    moving = 0
    for seed in range(8):
        clip = synthetic_clip(photo, 10, SIZE, np.random.default_rng(seed), n_objects=0)
        far = _mad(clip[0], clip[-1])
        steps = [_mad(clip[i], clip[i + 1]) for i in range(len(clip) - 1)]
        if far > 4:
            moving += 1
            assert min(steps) > 0
            assert np.mean(steps) < 0.6 * far, (seed, steps, far)
    assert moving >= 3  # speed is drawn per clip; most clips move


def test_no_black_borders():
    """The view never leaves the photo (the warp would fill outside with black)."""
    photo, ov = _photo(), [_overlay()]
    for seed in range(8):
        clip = synthetic_clip(photo, 8, SIZE, np.random.default_rng(seed), ov)
        brightest = clip.max(axis=3)  # (T, h, w): the photo and overlay have no dark pixel
        for edge in (brightest[:, 0, :], brightest[:, -1, :], brightest[:, :, 0], brightest[:, :, -1]):
            assert edge.min() > 20, seed
        assert brightest.min() > 20, seed


def test_overlay_objects_appear():
    photo, ov = _photo(), [_overlay()]
    for seed in range(4):
        clip = synthetic_clip(photo, 9, SIZE, np.random.default_rng(seed), ov, n_objects=2)
        # Objects may enter or leave, but each crosses the inner frame at mid-clip (frame 4 of 9).
        assert _red(clip[4]).sum() > 0.01 * clip[4].shape[0] * clip[4].shape[1], seed
    # Without objects no pixel takes the overlay's colour.
    assert not _red(synthetic_clip(photo, 8, SIZE, np.random.default_rng(0), ov, n_objects=0)).any()


def test_bad_input_raises():
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="uint8"):
        synthetic_clip(_photo().astype(np.float32), 4, SIZE, rng)
    with pytest.raises(InputError, match="n_frames"):
        synthetic_clip(_photo(), 0, SIZE, rng)
    with pytest.raises(InputError, match="overlays"):
        synthetic_clip(_photo(), 4, SIZE, rng, n_objects=1)


def test_trim_bars_removes_letterbox_only():
    photo = _photo()
    boxed = np.zeros((photo.shape[0] + 10, photo.shape[1] + 16, 3), np.uint8)
    boxed[5:-5, 8:-8] = photo
    assert np.array_equal(_trim_bars(boxed), photo)
    assert np.array_equal(_trim_bars(photo), photo)


def test_clips_from_folder(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"p{i}.png"), _photo(seed=i)[..., ::-1])
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    cv2.imwrite(str(tmp_path / "gray.png"), np.full((60, 80), 128, np.uint8))
    (tmp_path / "notes.txt").write_text("not a photo")

    got = list(synthetic_clips_from_folder(tmp_path, 5, 4, SIZE, seed=1))
    names = [n for n, _ in got]
    assert len(got) == 5 and len(set(names)) == 5
    assert all(n.split("_", 1)[1] in {"p0", "p1", "p2"} for n in names)  # cycles, skips unusable files
    assert all(c.shape == (4, *SIZE, 3) and c.dtype == np.uint8 for _, c in got)
    again = list(synthetic_clips_from_folder(tmp_path, 5, 4, SIZE, seed=1))
    assert names == [n for n, _ in again] and all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, again))


def test_folder_without_usable_photos_raises(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"nope")
    with pytest.raises(InputError, match="none could be used"):
        list(synthetic_clips_from_folder(tmp_path, 2, 4, SIZE, seed=0))
