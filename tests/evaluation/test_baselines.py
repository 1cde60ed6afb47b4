import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.evaluation import flow_propagation, global_transfer, make_gray
from exemplar_vc.metrics import psnr, psnr_ab


def test_static_clip_flow_propagation_reproduces_the_exemplar(clip):
    still = np.repeat(clip[:1], 5, axis=0)
    out = flow_propagation(make_gray(still), {0: still[0]})
    assert psnr(out[1:], out[:-1]) > 45  # nothing moves, nothing drifts
    assert psnr_ab(out, still) > 35


def test_flow_beats_global_tint_on_a_pan(clip):
    gray = make_gray(clip)
    flow = flow_propagation(gray, {0: clip[0]})
    tint = global_transfer(gray, {0: clip[0]})
    assert psnr_ab(flow, clip) > psnr_ab(tint, clip) + 3


def test_frames_before_the_first_exemplar_are_filled_backward(clip):
    gray = make_gray(clip)
    out = flow_propagation(gray, {4: clip[4]})
    assert psnr_ab(out[:4], clip[:4]) > 30


def test_the_input_gray_is_kept(clip):
    """Baselines compose like the pipeline (color.compose_rgb): the output's luma is the gray."""
    from exemplar_vc.pixels import rgb_to_gray

    gray = make_gray(clip)
    for fn in (global_transfer, flow_propagation):
        assert np.array_equal(rgb_to_gray(fn(gray, {0: clip[0]})), gray)


def test_global_transfer_uses_the_nearest_exemplar():
    gray = np.full((6, 16, 16), 120, np.uint8)
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 220
    blue = np.zeros((16, 16, 3), np.uint8)
    blue[..., 2] = 220
    out = global_transfer(gray, {0: red, 5: blue}).astype(int)
    assert (out[:3, ..., 0] > out[:3, ..., 2]).all()
    assert (out[3:, ..., 2] > out[3:, ..., 0]).all()


def test_bad_exemplars_raise(clip):
    gray = make_gray(clip)
    with pytest.raises(InputError, match="exemplar frames in 0..7"):
        global_transfer(gray, {9: clip[0]})
    with pytest.raises(InputError, match="at least one exemplar"):
        flow_propagation(gray, {})
