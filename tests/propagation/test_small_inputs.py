"""Inputs smaller than the working size are analysed upscaled to it (resize.working_shape
with ``upscale``) and their chroma is shrunk back, antialiased, onto their own gray."""

from __future__ import annotations

import numpy as np
import torch

from exemplar_vc.propagation import analyse_frame
from exemplar_vc.propagation.upsample import upsample_chroma
from exemplar_vc.resize import working_shape

from conftest import moving_clip, to_gray


def test_working_shape_upscales_only_when_asked():
    assert working_shape(144, 176, 384) == (144, 176)
    assert working_shape(144, 176, 384, upscale=True) == (384, 472)
    # Larger inputs shrink either way.
    assert working_shape(480, 854, 384) == working_shape(480, 854, 384, upscale=True) == (384, 680)


def test_stage2_analyses_a_small_frame_at_the_working_size(colorizer):
    gray = np.zeros((48, 72), np.uint8)
    frame = analyse_frame(0, gray, colorizer.encoder, 96, torch.device("cpu"))
    assert tuple(frame.gray.shape[-2:]) == (48, 72)  # the output keeps the input's size
    assert tuple(frame.luma.shape[-2:]) == (96, 144)


def test_shrinking_chroma_is_antialiased():
    # A one-pixel checkerboard at 3x the output size averages to ~0; sampling it without
    # antialiasing would pick single pixels (+-1).
    board = torch.from_numpy((np.indices((36, 36)).sum(0) % 2) * 2.0 - 1.0).float()
    ab = board.expand(1, 2, 36, 36)
    out = upsample_chroma(ab, torch.zeros(1, 1, 12, 12))
    assert out.abs().max() < 0.2


def test_small_clip_is_coloured_from_its_exemplar_on_both_paths(colorizer):
    rgb = moving_clip(frames=5, size=(48, 72), step=3, seed=3)
    gray = to_gray(rgb)
    result = colorizer(gray, exemplars={0: rgb[0]})
    frames = result.frames
    assert frames.shape == rgb.shape
    err = frames[1:].astype(np.float64) - rgb[1:]
    psnr = 10 * np.log10(255.0**2 / np.mean(err**2))
    assert psnr > 28.0, psnr
    # The tensor path resizes in its own code (tensors.py): it must upscale alike.
    out = colorizer.colorize_tensor(torch.from_numpy(gray)[:, None], exemplars={0: rgb[0]}, batch_size=1)
    got = (out.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy()
    np.testing.assert_array_equal(got, frames)
