"""exemplar_vc.pixels: the one place where bit depths, gray and layouts are converted."""

import cv2
import numpy as np
import pytest
import torch

from exemplar_vc.errors import InputError
from exemplar_vc.pixels import FLOAT_TOLERANCE, as_channels_last, rgb_to_gray, to_gray, to_rgb, to_uint8


def test_uint16_rounds_to_the_nearest_level():
    x = np.arange(0, 65536, 7, dtype=np.uint16)
    assert np.array_equal(to_uint8(x), np.round(x / 257).astype(np.uint8))


def test_float_clipping_is_one_rule():
    ok = np.array([-FLOAT_TOLERANCE / 2, 0.5, 1 + FLOAT_TOLERANCE / 2])
    assert to_uint8(ok).tolist() == [0, 128, 255]
    for bad in ([-0.01, 0.5], [0.5, 1.01], [np.nan, 0.5], [np.inf, 0.5]):
        with pytest.raises(InputError, match=r"float in \[0, 1\]"):
            to_uint8(np.array(bad))
    with pytest.raises(InputError, match="bool"):
        to_uint8(np.zeros(3, bool))


def test_gray_is_bt601_as_opencv(clip_rgb):
    frame = clip_rgb[0]
    assert np.array_equal(rgb_to_gray(frame), cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    assert np.array_equal(rgb_to_gray(frame), cv2.cvtColor(np.ascontiguousarray(frame[..., ::-1]), cv2.COLOR_BGR2GRAY))
    stack = rgb_to_gray(clip_rgb)
    assert stack.shape == clip_rgb.shape[:3]
    assert all(np.array_equal(s, cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)) for s, f in zip(stack, clip_rgb))


def test_gray_and_rgb_accept_every_layout(clip_rgb):
    frame = clip_rgb[0]
    gray = rgb_to_gray(frame)
    rgba = np.concatenate([frame, np.full(frame.shape[:2] + (1,), 255, np.uint8)], axis=2)
    assert np.array_equal(to_gray(rgba), gray)
    assert np.array_equal(to_gray(gray[..., None]), gray)
    assert np.array_equal(to_rgb(rgba), frame)
    assert np.array_equal(to_rgb(gray), np.repeat(gray[..., None], 3, axis=2))
    with pytest.raises(InputError, match=r"\(H, W\) or \(H, W, 3\)"):
        to_gray(np.zeros((4, 4, 2), np.uint8))


def test_torch_is_channels_first_numpy_channels_last():
    t = torch.rand(3, 5, 7)
    assert as_channels_last(t).shape == (5, 7, 3)
    assert as_channels_last(t[None]).shape == (1, 5, 7, 3)
    assert as_channels_last(torch.rand(5, 7, 3)).shape == (5, 7, 3)
    assert as_channels_last(np.zeros((3, 5, 7))).shape == (3, 5, 7)
