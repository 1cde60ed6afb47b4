import numpy as np
import pytest

from exemplar_vc.metrics import fd_effnet, frechet_distance, gaussian_stats


def test_matches_scipy_sqrtm_formula():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 6)), rng.normal(loc=0.3, size=(50, 6)) @ rng.normal(size=(6, 6))
    (m1, s1), (m2, s2) = gaussian_stats(a), gaussian_stats(b)
    ref = np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(ref, rel=1e-6)


def test_identical_sets_give_zero():
    rng = np.random.default_rng(1)
    m, s = gaussian_stats(rng.normal(size=(10, 30)))  # rank-deficient covariance
    assert frechet_distance(m, s, m, s) == pytest.approx(0.0, abs=1e-8)


def test_fd_effnet_zero_on_truth_and_grows_with_damage(panning_clip):
    assert fd_effnet(panning_clip, panning_clip) == pytest.approx(0.0, abs=1e-6)
    gray = np.repeat(panning_clip.mean(-1, keepdims=True), 3, -1).astype(np.uint8)
    assert fd_effnet(gray, panning_clip) > 0.1
