import numpy as np
import pytest

from exemplar_vc.errors import InputError
from exemplar_vc.metrics import psnr, psnr_ab, psnr_frames, ssim, ssim_ab, ssim_frames


def _noisy(x, amp=20, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(x.astype(int) + rng.integers(-amp, amp + 1, x.shape), 0, 255).astype(np.uint8)


def test_psnr_hand_computed():
    gt = np.zeros((2, 4, 4, 3), np.uint8)
    pred = gt.copy()
    pred[0] = 10  # MSE 100 -> 10 log10(255^2 / 100)
    expected0 = 10 * np.log10(255**2 / 100)
    np.testing.assert_allclose(psnr_frames(pred, gt), [expected0, 100.0])  # exact frame: capped
    assert psnr(pred, gt) == pytest.approx((expected0 + 100.0) / 2)


def test_ssim_matches_scikit_image(panning_clip):
    skm = pytest.importorskip("skimage.metrics")
    pred = _noisy(panning_clip)
    ref = [
        skm.structural_similarity(p, g, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1)
        for p, g in zip(pred, panning_clip)
    ]
    np.testing.assert_allclose(ssim_frames(pred, panning_clip), ref, rtol=1e-9)
    assert ssim(panning_clip, panning_clip) == pytest.approx(1.0)


def test_ab_metrics_ignore_luminance_only_changes():
    gray = np.full((1, 16, 16, 3), 100, np.uint8)
    brighter = np.full((1, 16, 16, 3), 160, np.uint8)
    assert psnr(brighter, gray) < 30
    assert psnr_ab(brighter, gray) > 60  # both neutral: a = b = 0
    assert ssim_ab(brighter, gray) == pytest.approx(1.0)


def test_ab_metrics_see_colour_changes(panning_clip):
    shifted = panning_clip.copy()
    shifted[..., 0] = np.clip(shifted[..., 0].astype(int) + 40, 0, 255)
    assert psnr_ab(shifted, panning_clip) < 40
    assert ssim_ab(shifted, panning_clip) < 1.0


def test_shape_mismatch_raises(panning_clip):
    with pytest.raises(InputError, match="same shape"):
        psnr(panning_clip, panning_clip[:3])


def test_tiny_frames_raise_for_ssim():
    x = np.zeros((1, 8, 8, 3), np.uint8)
    with pytest.raises(InputError, match="larger than 11x11"):
        ssim(x, x)


def test_float_input_in_unit_range(panning_clip):
    assert psnr(panning_clip / 255.0, panning_clip) >= 99.0
