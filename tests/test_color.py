import numpy as np
import pytest
import torch
from skimage import color as skcolor

from exemplar_vc.color import compose_rgb, gray_to_lightness, lab_to_rgb, lab_to_rgb_keep_lightness, rgb_to_lab


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


# -- compose_rgb ---------------------------------------------------------------------
def _baselines_compose_before_issue_8(gray, ab):
    """The evaluation baselines' own composition before ``compose_rgb`` replaced it: a fast
    path for in-gamut pixels, the gamut bisection on the others only."""
    L = gray_to_lightness(torch.from_numpy(gray).float()[None] / 255.0)
    abt = torch.from_numpy(np.ascontiguousarray(ab, np.float32)).permute(2, 0, 1)
    rgb = lab_to_rgb(torch.cat([L, abt]), clip=False)
    outside = ((rgb < -1e-4) | (rgb > 1 + 1e-4)).any(dim=0)
    if bool(outside.any()):
        fixed = lab_to_rgb_keep_lightness(L[:, outside][None, :, None], abt[:, outside][None, :, None])
        rgb[:, outside] = fixed[0, :, 0]
    return np.round(rgb.clamp(0, 1).permute(1, 2, 0).numpy() * 255.0).astype(np.uint8)


def _scene_gray_and_ab(saturation):
    import cv2

    from conftest import textured_scene

    rgb = textured_scene(64, 96, seed=3)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ab = rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1).float()[None] / 255.0)[0, 1:].permute(1, 2, 0).numpy()
    return gray, np.ascontiguousarray(ab * saturation, np.float32)


@pytest.mark.parametrize("saturation", [1.0, 3.0])  # its own chroma, and far out of gamut
def test_compose_rgb_is_bit_identical_to_every_former_path(saturation):
    gray, ab = _scene_gray_and_ab(saturation)
    g = torch.from_numpy(gray).float().div(255.0)[None, None]
    abt = torch.from_numpy(ab).permute(2, 0, 1)[None]
    L = gray_to_lightness(g)
    # the propagation engine's render
    engine = (lab_to_rgb_keep_lightness(L, abt)[0].permute(1, 2, 0) * 255.0).round_().to(torch.uint8).cpu().numpy()
    out = compose_rgb(gray, ab)
    assert out.dtype == np.uint8 and out.shape == gray.shape + (3,)
    assert np.array_equal(out, engine)
    assert np.array_equal(compose_rgb(g, abt), engine)
    assert np.array_equal(compose_rgb(L, abt, is_lightness=True), engine)
    assert np.array_equal(out, _baselines_compose_before_issue_8(gray, ab))


def test_compose_rgb_keeps_lightness_out_of_gamut():
    gray, ab = _scene_gray_and_ab(3.0)
    out = compose_rgb(gray, ab)
    L_out = rgb_to_lab(torch.from_numpy(out).permute(2, 0, 1).double()[None] / 255.0)[0, 0]
    L_in = gray_to_lightness(torch.from_numpy(gray).double() / 255.0)
    assert (L_out - L_in).abs().max() < 1.0  # only 8-bit rounding of RGB moves L


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros((4, 4), np.uint8), np.zeros((4, 5, 2), np.float32)), r"ab of shape \(4, 4, 2\)"),
        ((np.zeros((4, 4), np.float32), np.zeros((4, 4, 2), np.float32)), "uint8"),
        ((torch.zeros(1, 3, 4, 4), torch.zeros(1, 2, 4, 4)), r"\(1, 1, H, W\)"),
        ((torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 4, 5)), "size"),
    ],
)
def test_compose_rgb_bad_input_is_explained(args, message):
    with pytest.raises(ValueError, match=message):
        compose_rgb(*args)
