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
def test_compose_rgb_keeping_lightness_is_bit_identical_to_every_former_path(saturation):
    gray, ab = _scene_gray_and_ab(saturation)
    g = torch.from_numpy(gray).float().div(255.0)[None, None]
    abt = torch.from_numpy(ab).permute(2, 0, 1)[None]
    L = gray_to_lightness(g)
    # the propagation engine's render
    engine = (lab_to_rgb_keep_lightness(L, abt)[0].permute(1, 2, 0) * 255.0).round_().to(torch.uint8).cpu().numpy()
    out = compose_rgb(gray, ab, keep="lightness")
    assert out.dtype == np.uint8 and out.shape == gray.shape + (3,)
    assert np.array_equal(out, engine)
    assert np.array_equal(compose_rgb(g, abt, keep="lightness"), engine)
    assert np.array_equal(compose_rgb(L, abt, is_lightness=True, keep="lightness"), engine)
    assert np.array_equal(out, _baselines_compose_before_issue_8(gray, ab))


def test_compose_rgb_keeps_lightness_out_of_gamut():
    gray, ab = _scene_gray_and_ab(3.0)
    out = compose_rgb(gray, ab, keep="lightness")
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


def test_compose_rgb_bad_keep_is_explained():
    with pytest.raises(ValueError, match="keep in"):
        compose_rgb(np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.float32), keep="hue")
    with pytest.raises(ValueError, match="keep='lightness'"):
        compose_rgb(torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 4, 4), is_lightness=True)


# -- keeping luma --------------------------------------------------------------------
def _psnr(a, b):
    from exemplar_vc.metrics import psnr

    return psnr(a[None], b[None])


def test_a_colour_s_own_chroma_on_its_own_gray_gives_the_colour_back():
    """The gray of a saturated colour is its luma, far from its lightness (pure blue: gray
    29, whose neutral has L 11; blue's L is 32). Keeping luma gives the colour back;
    keeping lightness gives it too dark and dull."""
    from exemplar_vc.pixels import rgb_to_gray

    swatches = np.array([[[0, 0, 255], [255, 0, 0], [0, 160, 0], [240, 200, 20], [30, 40, 120], [128, 128, 128]]], np.uint8)
    gray, ab = rgb_to_gray(swatches), rgb_to_lab(torch.from_numpy(swatches).permute(2, 0, 1).float()[None] / 255.0)[0, 1:].permute(1, 2, 0).numpy()
    by_luma, by_lightness = compose_rgb(gray, ab), compose_rgb(gray, ab, keep="lightness")
    # Within the gray's own 8-bit rounding (one gray level is ~9 levels of pure blue).
    assert np.abs(by_luma.astype(int) - swatches).max() <= 4, by_luma
    assert np.abs(by_lightness.astype(int) - swatches).max() > 60, by_lightness
    from conftest import textured_scene

    gray_scene, ab_scene = _scene_gray_and_ab(1.0)
    truth = textured_scene(64, 96, seed=3)
    assert _psnr(compose_rgb(gray_scene, ab_scene), truth) > 45
    assert _psnr(compose_rgb(gray_scene, ab_scene), truth) > _psnr(compose_rgb(gray_scene, ab_scene, keep="lightness"), truth) + 3


@pytest.mark.parametrize("batch", [1, 2])
def test_a_few_saturated_pixels_among_many_gray_ones_get_their_colour_back(batch):
    """After the first Newton steps on every pixel, the few still missing (saturated
    colours far from their neutral's lightness) are finished on their own: they must
    come back as well as when every pixel is saturated, in every frame of a batch."""
    from exemplar_vc.color import lab_to_rgb_keep_luma
    from exemplar_vc.pixels import rgb_to_gray

    image = np.full((batch, 40, 40, 3), 128, np.uint8)
    swatches = np.array([[0, 0, 255], [255, 0, 0], [0, 160, 0], [30, 40, 120]], np.uint8)
    for b in range(batch):
        image[b, 5 + 3 * b, 7 : 7 + len(swatches)] = swatches[:: 1 - 2 * b]  # other places and order per frame
    rgb = torch.from_numpy(image).permute(0, 3, 1, 2).double() / 255.0
    gray = torch.from_numpy(np.stack([rgb_to_gray(im) for im in image])).double()[:, None] / 255.0
    out = lab_to_rgb_keep_luma(gray, rgb_to_lab(rgb)[:, 1:])
    back = (out * 255).round().permute(0, 2, 3, 1).numpy().astype(int)
    assert np.abs(back - image).max() <= 4


def test_composing_in_bands_of_rows_matches_composing_at_once(monkeypatch):
    """Large frames are composed a band of rows at a time; the seams must not show."""
    from exemplar_vc.color import lab_to_rgb_keep_luma
    from exemplar_vc.color import luma as luma_module

    gray, ab = _scene_gray_and_ab(2.0)
    g = torch.from_numpy(gray).float()[None, None] / 255.0
    ab_t = torch.from_numpy(ab).permute(2, 0, 1)[None].float()
    whole = lab_to_rgb_keep_luma(g, ab_t)
    monkeypatch.setattr(luma_module, "_BAND_PIXELS", 7 * gray.shape[1])  # bands of 7 rows, the last one shorter
    banded = lab_to_rgb_keep_luma(g, ab_t)
    assert gray.shape[0] % 7 != 0 and banded.shape == whole.shape
    torch.testing.assert_close(banded, whole, atol=1e-5, rtol=0)


@pytest.mark.parametrize("saturation", [0.0, 1.0, 3.0])  # gray, its own chroma, far out of gamut
def test_keeping_luma_gives_the_input_gray_back(saturation):
    from exemplar_vc.pixels import rgb_to_gray

    gray, ab = _scene_gray_and_ab(saturation)
    out = compose_rgb(gray, ab)
    assert np.array_equal(rgb_to_gray(out), gray)
    if saturation == 0.0:
        assert np.array_equal(out, np.repeat(gray[..., None], 3, axis=2))


def test_keeping_luma_on_float_gray_follows_it_between_8_bit_levels():
    from exemplar_vc.color import lab_to_rgb_keep_luma
    from exemplar_vc.color.luma import luma

    gray, ab = _scene_gray_and_ab(2.0)
    g = torch.from_numpy(gray).double()[None, None] / 255.0 + torch.rand(1, 1, *gray.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64) / 255.0
    g = g.clamp(0, 1)
    rgb = lab_to_rgb_keep_luma(g, torch.from_numpy(ab).permute(2, 0, 1)[None].double())
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert (luma(rgb) - g).abs().max() < 1e-6
