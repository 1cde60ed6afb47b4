"""Degraded training segments: the gray dims or fades, the truth's chroma stays, the
features follow the degraded gray, and an aligned exemplar shares its frame's gray."""

import numpy as np
import torch

from exemplar_vc.training.degrade import Degradation, degrade_segment


def _segment(seed: int):
    from conftest import moving_clip

    from exemplar_vc.modeling.encoder import LuminanceEncoder
    from exemplar_vc.training.data import cache_clip, sample_segment

    encoder = LuminanceEncoder()
    clip = cache_clip("tiny", moving_clip(frames=6, size=(64, 96), step=4), encoder, working_size=64)
    # p_aligned 1: both ends are the frames' own colour, as in the protocols.
    return encoder, sample_segment(clip, np.random.default_rng(seed), encoder, length=4, crop=48, max_stride=1, p_aligned=1.0)


def test_dimming_lowers_the_gray_and_keeps_8_bit_levels():
    gray = torch.linspace(0, 1, 256).view(1, 1, 16, 16)
    out = Degradation(gain=0.5, gamma=1.2).apply(gray, 0.5, np.random.default_rng(0))
    half_level = 0.5 / 255 + 1e-6  # rounding to 8-bit levels
    assert float(out.max()) <= 0.5 + half_level and float(out.mean()) < 0.5 * float(gray.mean())
    assert torch.equal(out * 255, (out * 255).round())
    faded = Degradation(gain=0.6, offset=0.15).apply(gray, 0.6, np.random.default_rng(0))
    assert abs(float(faded.min()) - 0.15) < 1 / 255 and float(faded.max()) <= 0.75 + half_level


def test_grain_is_fresh_in_every_frame():
    gray = torch.full((1, 1, 32, 32), 0.5)
    d = Degradation(gain=0.6, noise=4 / 255)
    rng = np.random.default_rng(0)
    a, b = d.apply(gray, 0.6, rng), d.apply(gray, 0.6, rng)
    assert not torch.equal(a, b)
    assert 2 / 255 < float(a.std()) < 6 / 255


def test_a_degraded_segment_keeps_the_truth_and_recomputes_features():
    encoder, seg = _segment(0)
    out = degrade_segment(seg, np.random.default_rng(3), encoder)
    assert out.luma.shape == seg.luma.shape and out.feats.shape == seg.feats.shape
    assert torch.equal(out.ab, seg.ab) and out.indices == seg.indices
    assert not torch.equal(out.luma, seg.luma)
    # The features are the encoder's of the degraded gray, not the cached ones.
    assert torch.allclose(out.feats, encoder(out.luma), atol=1e-6)
    assert not torch.allclose(out.feats, seg.feats.float(), atol=1e-2)
    # An aligned exemplar is its frame: its gray, cropped, is the frame's degraded gray.
    y0, x0, h, w = seg.box
    for (_, ab, aligned, gray), t in ((out.left, 0), (out.right, len(seg.indices) - 1)):
        assert aligned is not None
        assert torch.equal(gray[0, :, y0 : y0 + h, x0 : x0 + w], out.luma[t])
        assert torch.allclose(out.left[0] if t == 0 else out.right[0], encoder(gray), atol=1e-6)
    assert torch.equal(out.left[1], seg.left[1]) and torch.equal(out.right[1], seg.right[1])
