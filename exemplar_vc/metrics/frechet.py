"""Fréchet distance between two sets of feature vectors, each modelled as a Gaussian.

    FD = ||mu_1 - mu_2||^2 + Tr(S_1) + Tr(S_2) - 2 Tr((S_1 S_2)^(1/2))

(Dowson and Landau 1982; the form used by FID, Heusel et al., NeurIPS 2017, eq. (6)).
Tr((S_1 S_2)^(1/2)) is computed as the sum of the square roots of the eigenvalues of the
symmetric positive semi-definite S_1^(1/2) S_2 S_1^(1/2), which has the same spectrum as
S_1 S_2, so no general matrix square root is needed.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["frechet_distance", "gaussian_stats"]


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) features -> mean (D,) and unbiased covariance (D, D), float64; N >= 2."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise InputError(f"expected (N, D) features with N >= 2 for a covariance, got {tuple(f.shape)}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(0.5 * (s + s.T))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, s1) and N(mu2, s2); >= 0.

    >>> i = np.eye(2)
    >>> frechet_distance(np.zeros(2), i, np.ones(2), 4 * i)  # 2 + (2 + 8 - 2 * 4)
    4.0
    """
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise InputError(f"expected statistics of the same dimension, got {mu1.shape} and {mu2.shape}")
    r1 = _psd_sqrt(s1)
    inner = np.linalg.eigvalsh(r1 @ s2 @ r1)
    tr_sqrt = np.sqrt(np.clip(inner, 0.0, None)).sum()
    d = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * tr_sqrt
    return float(max(d, 0.0))
