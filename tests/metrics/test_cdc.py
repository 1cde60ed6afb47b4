import math

import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.metrics import cdc, cdc_curve, cdc_step
from exemplar_vc.metrics.cdc import channel_histograms, js_divergence


def test_identical_frames_give_zero(panning_clip):
    still = np.repeat(panning_clip[:1], 6, axis=0)
    assert cdc(still) == 0.0


def test_disjoint_single_value_pair_gives_ln2():
    x = np.zeros((2, 3, 3, 3), np.uint8)
    x[1] = 200
    assert cdc_step(x, 1) == pytest.approx(math.log(2))
    assert cdc_curve(x) == pytest.approx([math.log(2)])


def test_alternating_frames_hand_computed():
    # Frames alternate black / white: every t=1 pair is disjoint (ln 2), t=2 and t=4 pairs
    # are identical (0), so CDC = (ln 2 + 0 + 0) / 3.
    x = np.zeros((5, 2, 2, 3), np.uint8)
    x[1::2] = 255
    assert cdc(x) == pytest.approx(math.log(2) / 3)


def test_one_channel_differs_counts_one_third():
    x = np.zeros((2, 2, 2, 3), np.uint8)
    x[1, ..., 2] = 9  # only blue changes
    assert cdc_step(x, 1) == pytest.approx(math.log(2) / 3)


def test_half_overlap_hand_computed():
    # P = [1, 0], Q = [1/2, 1/2]: M = [3/4, 1/4]; JS = 1/2 ln(4/3) + 1/2 (1/2 ln(2/3) + 1/2 ln 2).
    p, q = np.array([1.0, 0.0]), np.array([0.5, 0.5])
    expected = 0.5 * math.log(4 / 3) + 0.5 * (0.5 * math.log(2 / 3) + 0.5 * math.log(2))
    assert float(js_divergence(p, q)) == pytest.approx(expected)


def test_histograms_are_distributions(panning_clip):
    h = channel_histograms(panning_clip)
    assert h.shape == (6, 3, 256)
    np.testing.assert_allclose(h.sum(-1), 1.0)


def test_torch_input_matches_numpy(panning_clip):
    torch = pytest.importorskip("torch")
    assert cdc(torch.from_numpy(panning_clip)) == cdc(panning_clip)


def test_too_few_frames_raises(panning_clip):
    with pytest.raises(InputError, match="more than 4 frames"):
        cdc(panning_clip[:4])


def test_bad_shape_raises():
    with pytest.raises(InputError, match=r"\(T, H, W, 3\)"):
        cdc(np.zeros((5, 4, 4), np.uint8))
