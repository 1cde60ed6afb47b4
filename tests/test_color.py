import numpy as np
import pytest
import torch
from skimage import color as skcolor

from exemplar_vc.color import gray_to_lightness, lab_to_rgb, lab_to_rgb_keep_lightness, rgb_to_lab


def test_rgb_to_lab_matches_scikit_image():
    rgb = torch.rand(2, 3, 9, 11, dtype=torch.float64)
    ours = rgb_to_lab(rgb)
    theirs = torch.from_numpy(skcolor.rgb2lab(rgb.permute(0, 2, 3, 1).numpy())).permute(0, 3, 1, 2)
    # scikit-image uses the tabulated D65 white; we use the white of the sRGB matrix
    # itself (so gray maps to a = b = 0 exactly): they differ by < 0.01 Lab units.
    assert torch.allclose(ours, theirs, atol=1e-2)


def test_lab_to_rgb_matches_scikit_image():
    lab = rgb_to_lab(torch.rand(1, 3, 8, 8, dtype=torch.float64))
    ours = lab_to_rgb(lab)
    theirs = torch.from_numpy(skcolor.lab2rgb(lab.permute(0, 2, 3, 1).numpy())).permute(0, 3, 1, 2)
    assert torch.allclose(ours, theirs, atol=1e-3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_round_trip(dtype):
    rgb = torch.rand(3, 3, 7, 5, dtype=dtype)
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    assert torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=tol)


def test_gray_is_neutral_and_lightness_matches():
    g = torch.rand(1, 1, 6, 6, dtype=torch.float64)
    lab = rgb_to_lab(g.expand(1, 3, 6, 6))
    assert lab[:, 1:].abs().max() < 1e-9
    assert torch.allclose(gray_to_lightness(g), lab[:, :1], atol=1e-9)


def test_keep_lightness_shrinks_chroma_not_lightness():
    L = torch.linspace(5, 95, 16, dtype=torch.float64).view(1, 1, 4, 4)
    ab = torch.full((1, 2, 4, 4), 110.0, dtype=torch.float64)  # far outside the gamut
    rgb = lab_to_rgb_keep_lightness(L, ab)
    back = rgb_to_lab(rgb)
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert torch.allclose(back[:, :1], L, atol=0.05)
    assert (back[:, 1] > 1).all()  # still coloured, towards the requested hue


def test_bad_shape_is_explained():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, H, W\)"):
        rgb_to_lab(torch.rand(2, 4, 4))
