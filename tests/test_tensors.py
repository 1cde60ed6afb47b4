"""Tensors in and out (exemplar_vc/tensors.py): colorize_tensor, the pull stream and the
push stream agree with each other and with the array path; precision and devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from exemplar_vc.errors import InputError

CPU_AND_CUDA = [pytest.param("cpu"), pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")])]


@pytest.fixture(scope="module")
def clip(clip_gray):
    return clip_gray[:6]  # (6, 96, 144) uint8


@pytest.fixture(scope="module")
def reference(clip_rgb):
    # Another moment of the clip: not the key frame's own colour version, so streams (which
    # skip stage 1 and cannot tell) and whole-clip calls treat it alike.
    return clip_rgb[3]


def test_uint8_tensor_equals_the_array_path(colorizer, clip, reference):
    expected = colorizer(clip, exemplars={0: reference}).frames  # (T, H, W, 3) uint8
    out = colorizer.colorize_tensor(torch.from_numpy(clip)[:, None], exemplars={0: reference}, batch_size=1)
    assert out.shape == (len(clip), 3) + clip.shape[1:] and out.dtype == torch.float32
    got = (out.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy()
    np.testing.assert_array_equal(got, expected)


def test_batched_encoding_equals_one_by_one(colorizer, clip, reference):
    gray = torch.from_numpy(clip).float() / 255  # (T, H, W) accepted too
    one = colorizer.colorize_tensor(gray, exemplars={0: reference}, batch_size=1)
    batched = colorizer.colorize_tensor(gray, exemplars={0: reference}, batch_size=4)
    assert (one - batched).abs().max() < 2e-3


def test_float_input_keeps_its_luma_beyond_8_bits(colorizer, clip, reference):
    # Values between 8-bit levels: the output's luma follows them, not their 8-bit rounding.
    from exemplar_vc.color.luma import luma

    rng = np.random.default_rng(0)
    gray = torch.from_numpy(np.clip(clip / 255.0 + rng.uniform(-0.5, 0.5, clip.shape) / 255.0, 0, 1))[:, None]  # float64
    out = colorizer.colorize_tensor(gray, exemplars={0: reference})
    assert out.dtype == torch.float64 and out.device == gray.device
    err = (luma(out.float()) - gray.float()).abs()
    rounding = ((gray * 255).round() / 255 - gray).abs().float()
    assert err.max() < 1e-4  # gamut handling never changes the luma (color.compose_rgb)
    assert err.mean() < 0.01 * rounding.mean()


def test_uint16_and_half_inputs(colorizer, clip, reference):
    g16 = torch.from_numpy(clip.astype(np.int32) * 257)  # uint16 values, widened
    out16 = colorizer.colorize_tensor(g16, exemplars={0: reference})
    out8 = colorizer.colorize_tensor(torch.from_numpy(clip), exemplars={0: reference})
    assert (out16 - out8).abs().max() < 1e-5
    half = colorizer.colorize_tensor(torch.from_numpy(clip).half() / 255, exemplars={0: reference})
    assert half.dtype == torch.float16


def test_pull_stream_equals_whole_clip(colorizer, clip, reference):
    gray = torch.from_numpy(clip).float() / 255
    whole = colorizer.colorize_tensor(gray, exemplars={0: reference, 5: reference}, batch_size=1)
    frames = list(colorizer.stream_tensor(iter(gray), exemplars={0: reference, 5: reference}))
    assert [f.index for f in frames] == list(range(len(clip)))
    stacked = torch.stack([f.rgb for f in frames])
    assert (stacked - whole).abs().max() < 1e-6
    assert frames[0].confidence.dim() == 2


def test_stream_recognises_frame_0s_own_colour(colorizer, clip, clip_rgb):
    gray = torch.from_numpy(clip).float() / 255
    whole = colorizer.colorize_tensor(gray, exemplars={0: clip_rgb[0]}, batch_size=1)
    streamed = torch.stack([f.rgb for f in colorizer.stream_tensor(iter(gray), exemplars={0: clip_rgb[0]})])
    assert (streamed - whole).abs().max() < 1e-6


def test_push_stream_returns_frames_when_final(colorizer, clip, reference):
    gray = torch.from_numpy(clip).float() / 255
    stream = colorizer.tensor_stream({0: reference, 4: reference})
    got = [[f.index for f in stream.push(g)] for g in gray]
    # frame 0 at once; 1-3 wait for the exemplar at 4; after it, each frame at once
    assert got == [[0], [], [], [], [1, 2, 3, 4], [5]]
    assert stream.close() == []
    pulled = list(colorizer.stream_tensor(iter(gray), exemplars={0: reference, 4: reference}))
    stream = colorizer.tensor_stream({0: reference, 4: reference}, num_frames=len(gray))
    pushed = [f for g in gray for f in stream.push(g)] + stream.close()
    assert all(torch.equal(a.rgb, b.rgb) for a, b in zip(pulled, pushed)) and len(pushed) == len(gray)


def test_stream_errors(colorizer, clip, reference):
    gray = torch.from_numpy(clip).float() / 255
    with pytest.raises(InputError, match="last exemplar's frame 8"):
        list(colorizer.stream_tensor(iter(gray), exemplars={0: reference, 8: reference}))
    stream = colorizer.tensor_stream({0: reference}, num_frames=2)
    stream.push(gray[0])
    stream.push(gray[1])
    with pytest.raises(InputError, match="expected 2 frames"):
        stream.push(gray[2])
    with pytest.raises(InputError, match="dict"):
        colorizer.tensor_stream([reference])


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.zeros(2, 3, 8, 8), r"\(T, 1, H, W\)"),
        (torch.full((2, 1, 48, 64), 2.0), r"float in \[0, 1\]"),
        (torch.zeros(0, 1, 48, 64), "0 frames"),
        (np.zeros((2, 48, 64), np.uint8), "torch tensor"),
    ],
)
def test_bad_input_says_what_was_expected(colorizer, bad, match, reference):
    with pytest.raises(InputError, match=match):
        colorizer.colorize_tensor(bad, exemplars={0: reference})


@pytest.mark.parametrize("device", CPU_AND_CUDA)
def test_output_stays_on_the_input_device(device, clip, reference):
    import exemplar_vc

    model = exemplar_vc.VideoColorizer.from_pretrained("default", device=device, working_size=96)
    gray = (torch.from_numpy(clip).float() / 255).to(device)
    out = model.colorize_tensor(gray[:, None], exemplars={0: reference})
    assert out.device == gray.device and out.shape == (len(clip), 3) + clip.shape[1:]
    assert 0 <= float(out.min()) and float(out.max()) <= 1


def test_module_doctests():
    import doctest

    import exemplar_vc.tensors as tensors

    result = doctest.testmod(tensors)
    assert result.attempted > 0 and result.failed == 0
