import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.metrics import warp_error, warp_error_frames
from exemplar_vc.metrics.flow import consistency_mask, dis_flow, warp_backward


def test_truth_against_itself_is_near_zero(panning_clip):
    assert warp_error(panning_clip, panning_clip) < 1e-3


def test_flicker_is_caught(panning_clip):
    flicker = panning_clip.copy()
    flicker[1::2] = (flicker[1::2] * 0.7).astype(np.uint8)
    steady = warp_error(panning_clip, panning_clip)
    assert warp_error(flicker, panning_clip) > steady + 1e-3
    assert warp_error_frames(flicker, panning_clip).shape == (5,)


def test_constant_colour_offset_is_not_flicker(panning_clip):
    tinted = np.clip(panning_clip.astype(int) + 10, 0, 255).astype(np.uint8)
    assert warp_error(tinted, panning_clip) < 1e-3


def test_dis_recovers_a_pan(panning_clip):
    import cv2

    a, b = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in panning_clip[2:4])
    flow = dis_flow(b, a)  # frame 3 -> frame 2: content sits 2 px further right in frame 2
    assert np.median(flow[8:-8, 8:-8, 0]) == pytest.approx(2.0, abs=0.3)


def test_consistency_mask_marks_out_of_frame():
    h, w = 8, 10
    right = np.zeros((h, w, 2), np.float32)
    right[..., 0] = 3.0
    mask = consistency_mask(right, -right)
    assert mask[:, : w - 3].all() and not mask[:, w - 2 :].any()
    warped, inside = warp_backward(np.arange(w, dtype=np.float32)[None].repeat(h, 0), right)
    np.testing.assert_allclose(warped[:, :3], np.arange(3, 6)[None].repeat(h, 0))
    assert inside.sum() == h * (w - 3)


def test_needs_two_frames(panning_clip):
    with pytest.raises(InputError, match="at least 2 frames"):
        warp_error(panning_clip[:1], panning_clip[:1])
