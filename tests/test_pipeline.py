"""Properties of colorized video on tiny synthetic clips with known colour."""

import dataclasses

import numpy as np
import pytest
import torch

import exemplar_vc
from conftest import moving_clip, textured_scene, to_gray
from exemplar_vc.color import gray_to_lightness, rgb_to_lab
from exemplar_vc.errors import InputError


def lab(rgb: np.ndarray) -> torch.Tensor:
    return rgb_to_lab(torch.from_numpy(rgb).double().div(255).permute(0, 3, 1, 2))


def ab_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean absolute ab error per frame (Lab units)."""
    return (lab(pred)[:, 1:] - lab(gt)[:, 1:]).abs().mean(dim=(1, 2, 3)).numpy()


def test_key_frame_reproduces_its_exemplar(colorizer, clip_rgb, clip_gray):
    result = colorizer(clip_gray, {0: clip_rgb[0]})
    # Chroma is predicted on the feature grid (stride 8) and upsampled: close, not exact.
    assert ab_error(result.frames[:1], clip_rgb[:1])[0] < 2.0
    assert result.exemplars[0].frame == 0 and result.exemplars[0].source == "user"


def test_unaligned_exemplar_still_colours_its_key_frame(colorizer, clip_rgb, clip_gray):
    # A photo of the same scene, not the frame itself: shifted by 12 px and rescaled.
    import cv2

    scene = textured_scene(96, 144 + 6 * 8, seed=0)
    photo = cv2.resize(scene[:, 18 : 18 + 144], (180, 120), interpolation=cv2.INTER_AREA)
    result = colorizer(clip_gray, {0: photo})
    gray_baseline = ab_error(np.repeat(clip_gray[:1, ..., None], 3, axis=3), clip_rgb[:1])[0]
    assert ab_error(result.frames[:1], clip_rgb[:1])[0] < 0.5 * gray_baseline


def test_colour_follows_moving_content(colorizer, clip_rgb, clip_gray):
    result = colorizer(clip_gray, {0: clip_rgb[0]})
    ex_ab = lab(clip_rgb[:1])[:, 1:]
    mean_ab = ex_ab.mean(dim=(2, 3), keepdim=True)
    width = clip_rgb.shape[2]
    for t in range(1, len(clip_rgb)):
        # Compare where frame t shows content the exemplar saw (the view slides 6 px a frame).
        seen = slice(0, width - 6 * t)
        gt = lab(clip_rgb[t : t + 1])[:, 1:, :, seen]
        err = (lab(result.frames[t : t + 1])[:, 1:, :, seen] - gt).abs().mean()
        gray_err = gt.abs().mean()
        mean_err = (mean_ab - gt).abs().mean()
        assert err < 0.4 * gray_err, (t, err, gray_err)
        assert err < 0.4 * mean_err, (t, err, mean_err)


def test_luminance_is_preserved(colorizer, clip_rgb, clip_gray):
    """The output converted to gray is the input (its luma is kept, color.compose_rgb)."""
    from exemplar_vc.pixels import rgb_to_gray

    result = colorizer(clip_gray, {0: clip_rgb[0]})
    assert np.array_equal(rgb_to_gray(result.frames), clip_gray)


def test_lightness_is_preserved_when_asked(clip_rgb, clip_gray):
    colorizer = exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=96, propagation={"keep": "lightness"})
    result = colorizer(clip_gray, {0: clip_rgb[0]})
    L_out = lab(result.frames)[:, :1]
    L_in = gray_to_lightness(torch.from_numpy(clip_gray).double().div(255)[:, None])
    # Only the rounding of RGB to 8 bits separates them.
    assert (L_out - L_in).abs().max() < 0.8


# The network's chroma still moves a little along the frame's edges on a still shot (the
# exemplar match keeps some weight though the still flow is valid); with the output's luma
# kept (the default since v9 + luma), that is at most 1 level after 5 frames (2 with
# lightness kept, 12-15 with zero padding).
@pytest.mark.parametrize("fusion", ["hand", "network"])
def test_static_clip_stays_static(colorizer, clip_rgb, clip_gray, fusion):
    static = np.repeat(clip_gray[:1], 6, axis=0)
    frames = _with_propagation(colorizer, fusion=fusion)(static, {0: clip_rgb[0]}).frames
    assert np.abs(frames.astype(int) - frames[:1].astype(int)).max() <= 1


def test_replicate_padding_keeps_a_still_shots_edges_steady(colorizer, clip_rgb, clip_gray):
    """With zero padding the U-Net sees the frame's edge unlike its interior and gives the
    exemplar match most of the weight there; with plain (smooth) matches the colour there
    drifts on a still shot, and replicate padding (the default), same weights, keeps it
    within 3 levels (all without ``match_bias``). With the flow's detail in the matches
    (``match_detail``, the default) that weight no longer blurs the colour, and either
    padding stays within 1 level; so it does with plain matches corrected by their error
    at the key frame (``match_bias``, the default), which on a still shot is the key
    frame's own colour."""
    static = np.repeat(clip_gray[:1], 6, axis=0)

    def drift(padding: str, match_detail: bool, match_bias: bool = False) -> int:
        network = dataclasses.replace(colorizer.config.propagation.network, padding_mode=padding, match_detail=match_detail, match_bias=match_bias)
        frames = _with_propagation(colorizer, fusion="network", network=network)(static, {0: clip_rgb[0]}).frames
        return int(np.abs(frames.astype(int) - frames[:1].astype(int)).max())

    assert drift("replicate", False) <= 3 < drift("zeros", False)
    assert max(drift("replicate", True), drift("zeros", True)) <= 1
    assert max(drift("replicate", False, True), drift("zeros", False, True)) <= 1


def test_stream_equals_batch_and_file_output(colorizer, clip_rgb, clip_gray, tmp_path):
    ex = {0: clip_rgb[0], 7: clip_rgb[7]}
    batch = colorizer(clip_gray, ex)
    streamed = np.stack([f.rgb for f in colorizer.stream(clip_gray, ex)])
    assert np.array_equal(batch.frames, streamed)
    result = colorizer.colorize_to(clip_gray, tmp_path / "out", exemplars=ex)
    import cv2

    written = np.stack([cv2.imread(str(p))[..., ::-1] for p in sorted((tmp_path / "out").iterdir())])
    assert np.array_equal(written, batch.frames) and result.frames is None
    # Streamed to disk, only the per-frame mean confidence is kept (memory flat in length).
    assert result.confidence is None
    assert np.allclose(result.mean_confidence, batch.confidence.mean(axis=(1, 2)), atol=1e-6)


def test_both_exemplars_are_used_bidirectionally(colorizer, clip_rgb, clip_gray):
    one = colorizer(clip_gray, {0: clip_rgb[0]})
    two = colorizer(clip_gray, {0: clip_rgb[0], 7: clip_rgb[7]})
    assert ab_error(two.frames[7:], clip_rgb[7:])[0] < 2.0
    # Frames near the second exemplar improve with it.
    assert ab_error(two.frames[5:7], clip_rgb[5:7]).mean() < ab_error(one.frames[5:7], clip_rgb[5:7]).mean()


def test_spilling_segment_buffer_gives_same_result(colorizer, clip_rgb, clip_gray):
    ex = {0: clip_rgb[0], 7: clip_rgb[7]}
    small = dataclasses.replace(colorizer.config, propagation=dataclasses.replace(colorizer.config.propagation, max_buffer_frames=2))
    spilled = exemplar_vc.VideoColorizer(small, colorizer.encoder, colorizer.device)(clip_gray, ex)
    assert np.array_equal(spilled.frames, colorizer(clip_gray, ex).frames)


def test_colour_never_crosses_a_cut(colorizer):
    a = moving_clip(frames=5, seed=1)
    b = moving_clip(frames=5, seed=7)
    b = (np.ascontiguousarray(b[..., ::-1]) * 0.45).astype(np.uint8)  # another scene: other colours, darker
    clip = np.concatenate([a, b])
    result = colorizer(to_gray(clip), {0: a[0], 5: b[0]})
    assert result.shot_starts == [0, 5]
    err = ab_error(result.frames, clip)
    # Frames of the first shot must not be pulled towards the second shot's exemplar.
    assert err[:5].max() < 6 and err[5] < 2.0


def test_references_are_assigned_to_key_frames(colorizer, clip_rgb, clip_gray):
    other = np.ascontiguousarray(textured_scene(96, 144, seed=5)[..., ::-1])
    result = colorizer(clip_gray, [other, clip_rgb[0]])
    assert [e.frame for e in result.exemplars] == [0]
    assert result.exemplars[0].origin == "image[1]"


def test_exemplar_outside_the_video_is_refused(colorizer, clip_rgb, clip_gray):
    with pytest.raises(InputError, match=r"0\.\.7, got frame 8"):
        colorizer(clip_gray, {8: clip_rgb[0]})


def test_zero_frames_are_refused(colorizer, clip_rgb):
    with pytest.raises(InputError, match="at least one frame"):
        colorizer(np.zeros((0, 16, 16), np.uint8), {0: clip_rgb[0]})


def test_no_exemplars_is_the_automatic_mode(colorizer, clip_gray):
    result = colorizer(clip_gray)  # the image colorizer colours every key frame (issue 10)
    assert [r.source for r in result.keyframes] == ["colorizer"] * len(result.keyframes)
    assert result.unmatched_keyframes == [r.frame for r in result.keyframes]


def test_gray_exemplar_warns(colorizer, clip_gray):
    with pytest.warns(UserWarning, match="grayscale"):
        colorizer(clip_gray, {0: np.repeat(clip_gray[0][..., None], 3, axis=2)})


def test_one_line_colorize(clip_rgb, clip_gray, tmp_path):
    out = tmp_path / "out.mp4"
    result = exemplar_vc.colorize(clip_gray, out, exemplars={0: clip_rgb[0]}, device="cpu", working_size=96)
    assert out.exists() and len(result) == len(clip_gray)


def _with_propagation(colorizer, **changes):
    cfg = dataclasses.replace(colorizer.config, propagation=dataclasses.replace(colorizer.config.propagation, **changes))
    return exemplar_vc.VideoColorizer(cfg, colorizer.encoder, colorizer.device)


def test_colorizer_fill_in_is_gated_by_confidence(colorizer, clip_rgb, clip_gray):
    from exemplar_vc.propagation import analyse_frame

    ex = {0: clip_rgb[0]}
    plain = colorizer(clip_gray, ex).frames
    # Thresholds under every confidence: propagated colour everywhere, nothing changes.
    never = _with_propagation(colorizer, fill_in=True, fill_in_low=-2.0, fill_in_high=-1.0)
    assert np.array_equal(never(clip_gray, ex).frames, plain)
    # Thresholds over every confidence: the colorizer's chroma everywhere.
    always = _with_propagation(colorizer, fill_in=True, fill_in_low=2.0, fill_in_high=3.0)
    frames = list(always.stream(clip_gray, ex))
    luma = analyse_frame(3, clip_gray[3], colorizer.encoder, colorizer.config.working_size, colorizer.device).luma
    with torch.no_grad():
        prior_ab, _ = always._colorizer(luma)
    # The prior is predicted from the frame at the working resolution, on its feature grid,
    # and brought to the fusion module's grid (the working resolution for the network)
    # before the gate.
    prior_ab = torch.nn.functional.interpolate(prior_ab, size=frames[3].ab.shape[-2:], mode="bilinear", align_corners=False)
    assert np.allclose(frames[3].ab, prior_ab[0].detach().numpy(), atol=1e-4)


@pytest.mark.parametrize("exemplars", [{0: 0}, {0: 0, 5: 5}], ids=["forward", "both-directions"])
def test_key_frames_fine_chroma_reaches_its_neighbours(clip_rgb, exemplars):
    """Chroma finer than the working resolution (here half the frame's) is known exactly
    only at a key frame with its own colour version; the network carries it on along the
    flow (``carry_detail``, the default), so on a still shot the next frames keep it
    instead of stepping down to the working resolution's colour."""
    from exemplar_vc.color import lab_to_rgb
    from exemplar_vc.pixels import rgb_to_gray

    L = lab(clip_rgb[:1])[:, :1]
    stripes = 30.0 * torch.sign(torch.sin(torch.arange(L.shape[-1], dtype=torch.float64) * np.pi / 3))  # 3 px wide
    ab = torch.stack([stripes.expand_as(L[0, 0]), torch.full_like(L[0, 0], 10.0)])[None]
    frame = np.round(lab_to_rgb(torch.cat([L, ab], dim=1))[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    still, gray = np.repeat(frame[None], 6, axis=0), np.repeat(rgb_to_gray(frame)[None], 6, axis=0)
    colorizer = exemplar_vc.VideoColorizer.from_pretrained("default", device="cpu", working_size=48)
    errors = {}
    for carry in (True, False):
        network = dataclasses.replace(colorizer.config.propagation.network, carry_detail=carry)
        out = _with_propagation(colorizer, network=network)(gray, {k: frame for k in exemplars}).frames
        errors[carry] = ab_error(out, still)
    assert errors[True][0] == errors[False][0] < 0.5  # the key frame: its own chroma either way
    assert errors[False][1:5].min() > 8.0, errors  # the stripes blur at the working resolution
    assert errors[True].max() < 0.5, errors  # measured: 0.01 on every frame
