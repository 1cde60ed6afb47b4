"""Shot detection and key-frame choice on synthetic clips with known cuts."""

import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.keyframes import ShotConfig, detect_shots, plan_video


def _scene(seed: int, n: int, h: int = 72, w: int = 96, speed: int = 2) -> list[np.ndarray]:
    """A panning textured scene: smooth random texture, shifted ``speed`` px per frame."""
    import cv2

    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.integers(0, 256, (h, w + speed * n), dtype=np.uint8), (0, 0), 3)
    lo = 10 + 35 * (seed % 4)
    big = cv2.normalize(big, None, lo, lo + 80 + 20 * (seed % 3), cv2.NORM_MINMAX)
    return [np.ascontiguousarray(big[:, speed * t : speed * t + w]) for t in range(n)]


def test_hard_cuts_are_found_frame_exact():
    frames = _scene(0, 20) + _scene(1, 15) + _scene(2, 25, speed=4) + _scene(3, 12)
    plan = plan_video(iter(frames))
    assert plan.shot_starts == [0, 20, 35, 60]
    assert plan.num_frames == 72
    starts = [k.index for k in plan.keyframes if plan.reasons[k.index] == "shot"]
    assert starts == [0, 20, 35, 60]
    assert [k.shot for k in plan.keyframes if k.index in starts] == [0, 1, 2, 3]
    assert all(plan.shot_of(k.index) == k.shot for k in plan.keyframes)


def test_fast_motion_is_not_a_cut():
    frames = _scene(4, 40, speed=6)
    assert plan_video(frames).shot_starts == [0]


def test_fade_through_black_starts_a_shot():
    a, b = _scene(0, 20), _scene(5, 20)
    fade_out = [np.round(f * (1 - k / 6)).astype(np.uint8) for k, f in enumerate(a[-6:], 1)]
    black = [np.zeros_like(a[0])] * 3
    frames = a[:-6] + fade_out + black + b
    plan = plan_video(frames)
    assert plan.shot_starts == [0, 23]


def test_drift_and_max_gap_add_key_frames():
    frames = _scene(6, 60, speed=3)
    drift = plan_video(frames, config=ShotConfig(drift=0.05, min_gap=5, max_gap=0))
    assert len(drift.keyframes) > 2 and {drift.reasons[k.index] for k in drift.keyframes[1:]} == {"drift"}
    assert np.diff([k.index for k in drift.keyframes]).min() >= 5
    gap = plan_video(frames, config=ShotConfig(drift=1.0, max_gap=16))
    assert [k.index for k in gap.keyframes] == [0, 16, 32, 48]
    none = plan_video(frames, config=ShotConfig(drift=1.0, max_gap=0))
    assert [k.index for k in none.keyframes] == [0]


def test_wanted_frames_and_gray_images_are_kept():
    frames = _scene(7, 30)
    plan = plan_video(frames, wanted={7, 29, 99}, config=ShotConfig(drift=1.0, max_gap=0))
    assert [k.index for k in plan.keyframes] == [0, 7, 29]
    assert all(np.array_equal(k.gray, frames[k.index]) for k in plan.keyframes)


def test_custom_feature_drives_drift():
    frames = _scene(8, 30)

    def feature(gray):
        t = 0.1 * next(i for i, f in enumerate(frames) if f is gray)
        return np.array([np.cos(t), np.sin(t)])

    plan = plan_video(frames, config=ShotConfig(drift=0.01, min_gap=10, max_gap=0), feature=feature)
    assert [k.index for k in plan.keyframes] == [0, 10, 20]


def test_detect_shots_from_changes():
    assert detect_shots([0.01] * 5 + [0.8] + [0.02] * 5) == [0, 6]
    assert detect_shots([]) == [0]


def test_bad_input():
    with pytest.raises(InputError, match="expected \\(H, W\\) uint8 gray frames"):
        plan_video([np.zeros((8, 8, 3), np.uint8)])
    with pytest.raises(InputError, match="expected \\(H, W\\) uint8 gray frames"):
        plan_video([np.zeros((8, 8), np.float32)])
    with pytest.raises(InputError, match="window >= 1"):
        ShotConfig(window=0)
    assert plan_video([]).num_frames == 0
