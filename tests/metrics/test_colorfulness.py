import numpy as np
import pytest

from exemplar_vc.metrics import colorfulness, colorfulness_frames, colorfulness_ratio


def test_gray_is_zero():
    assert colorfulness(np.full((3, 5, 5, 3), 77, np.uint8)) == 0.0


def test_uniform_colour_hand_computed():
    x = np.zeros((1, 4, 4, 3), np.uint8)
    x[..., 1] = 60  # rg = -60, yb = 30, no spread
    assert colorfulness(x) == pytest.approx(0.3 * np.hypot(60, 30))


def test_spread_hand_computed():
    # Half the pixels (R, G, B) = (100, 0, 0), half 0: rg has mean 50, std 50; yb mean 25, std 25.
    x = np.zeros((1, 2, 2, 3), np.uint8)
    x[0, 0, :, 0] = 100
    expected = np.hypot(50, 25) + 0.3 * np.hypot(50, 25)
    assert colorfulness_frames(x) == pytest.approx([expected])


def test_ratio_flags_washed_out(panning_clip):
    gray = panning_clip.mean(axis=-1, keepdims=True)
    washed = (0.5 * panning_clip + 0.5 * gray).astype(np.uint8)
    assert colorfulness_ratio(panning_clip, panning_clip) == pytest.approx(1.0)
    assert colorfulness_ratio(washed, panning_clip) < 0.6


def test_ratio_nan_for_gray_truth():
    g = np.full((1, 4, 4, 3), 50, np.uint8)
    assert np.isnan(colorfulness_ratio(g, g))
