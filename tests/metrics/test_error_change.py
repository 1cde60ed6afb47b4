import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.metrics import JND_AB, error_change_curves
from exemplar_vc.metrics.fidelity import rgb_to_ab


def _tinted(clip: np.ndarray, red: int) -> np.ndarray:
    out = clip.astype(int)
    out[..., 0] += red
    return np.clip(out, 0, 255).astype(np.uint8)


def test_the_truth_itself_never_changes_its_error(panning_clip):
    mean, share = error_change_curves(panning_clip, rgb_to_ab(panning_clip))
    assert mean.shape == share.shape == (len(panning_clip) - 1,)
    assert mean.max() < 1e-6 and share.max() == 0.0


def test_a_steady_tint_is_no_flicker_but_a_snap_is(panning_clip):
    steady = panning_clip[:, 10:-10, 10:-10]
    gt_ab = rgb_to_ab(steady)
    tint = _tinted(steady, 20)
    mean, share = error_change_curves(tint, gt_ab)
    assert mean.max() < 1.5  # a consistently wrong colour: its error barely moves
    snap = tint.copy()
    snap[3:] = steady[3:]  # the tint drops away at frame 3, as colour would at an exemplar
    mean, share = error_change_curves(snap, gt_ab)
    assert mean[2] > 2 * JND_AB and mean[2] > 4 * np.delete(mean, 2).max()  # the pair (2, 3)
    assert share[2] > 0.9 and np.delete(share, 2).max() < 0.1  # the tint moves a little with the scene


def test_shape_mismatch_and_one_frame_are_refused(panning_clip):
    gt_ab = rgb_to_ab(panning_clip)
    with pytest.raises(InputError, match="truth's a, b"):
        error_change_curves(panning_clip[:, :-1], gt_ab)
    with pytest.raises(InputError, match="at least 2 frames"):
        error_change_curves(panning_clip[:1], gt_ab[:1])


def test_module_doctests():
    import doctest

    from exemplar_vc.metrics import error_change

    assert doctest.testmod(error_change).failed == 0
