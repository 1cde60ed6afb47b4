"""Exposure normalisation of what stage 2 analyses (``propagation/exposure.py``)."""

import dataclasses

import numpy as np
import pytest
import torch

import exemplar_vc
from conftest import moving_clip, to_gray
from exemplar_vc.propagation import analyse_frame
from exemplar_vc.propagation.exposure import TARGET_HIGH, TARGET_LOW, measure_exposure


def ramp(low: int, high: int, shape=(60, 80)) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(low, high + 1, size=shape).astype(np.uint8)


def percentiles(t: torch.Tensor) -> np.ndarray:
    return np.percentile(t.numpy() * 255.0, [1, 99])


def test_a_full_range_image_is_left_exactly_as_it_is():
    e = measure_exposure(ramp(0, 255))
    x = torch.rand(1, 1, 8, 8)
    assert e.identity and e.apply(x) is x


@pytest.mark.parametrize("low, high", [(5, 130), (135, 205), (60, 120)], ids=["dim", "faded", "gray"])
def test_a_narrow_range_is_stretched_to_the_training_range(low, high):
    gray = ramp(low, high)
    e = measure_exposure(gray)
    stretched = e.apply(torch.from_numpy(gray).float().div(255))
    assert not e.identity and e.gain > 1
    assert np.allclose(percentiles(stretched), [TARGET_LOW, TARGET_HIGH], atol=1.5)
    # Monotone: the order of gray levels is kept.
    order = np.argsort(gray.ravel(), kind="stable")
    assert (np.diff(stretched.numpy().ravel()[order]) >= 0).all()


def test_a_flat_frame_is_not_stretched():
    # The black of a fade with a little noise: nothing to stretch but the noise.
    assert measure_exposure(ramp(10, 20)).identity


def test_the_uint8_and_float_forms_of_an_image_measure_the_same():
    gray = ramp(40, 150, shape=(300, 500))
    a, b = measure_exposure(gray), measure_exposure(torch.from_numpy(gray).float() / 255)
    assert a.gain == pytest.approx(b.gain, rel=1e-5) and a.mid == pytest.approx(b.mid, abs=1e-6)


def test_measure_rejects_an_image_that_is_not_2d():
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        measure_exposure(np.zeros((2, 4, 4), np.uint8))


def _dimmed(rgb: np.ndarray, scale: float) -> np.ndarray:
    """The scene with less light: linear RGB scaled, as footage shot darker."""
    lin = (rgb / 255.0) ** 2.2 * scale
    return np.round(lin ** (1 / 2.2) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def dim_clip():
    return _dimmed(moving_clip(), 0.2)


def _with(colorizer, normalize: bool):
    cfg = dataclasses.replace(colorizer.config, propagation=dataclasses.replace(colorizer.config.propagation, normalize_exposure=normalize))
    return exemplar_vc.VideoColorizer(cfg, colorizer.encoder, colorizer.device)


def test_only_the_analysis_sees_the_stretch(colorizer, dim_clip):
    gray = to_gray(dim_clip)
    plain = analyse_frame(0, gray[0], colorizer.encoder, 96, colorizer.device)
    stretched = analyse_frame(0, gray[0], colorizer.encoder, 96, colorizer.device, normalize_exposure=True)
    assert torch.equal(plain.gray, stretched.gray)  # what the output is composed on
    spread = lambda f: float(np.subtract(*percentiles(f.luma)[::-1]))  # noqa: E731
    assert spread(stretched) > 1.5 * spread(plain)
    # The output keeps the input's luma, not the stretched one.
    out = _with(colorizer, True)(gray, {0: dim_clip[0]}).frames
    assert np.abs(to_gray(out).astype(int) - gray).max() <= 1
