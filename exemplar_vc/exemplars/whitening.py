"""PCA (and optionally whitening) of content descriptors, fitted on the bank itself.

Learned whitening (Jégou & Chum, "Negative evidences and co-occurrences in image
retrieval", ECCV 2012): centre on the bank mean, project on the leading principal
directions, and scale each by lambda^-alpha. alpha = 0.5 is full whitening, which
down-weights the directions every image shares (the main source of hubs); alpha = 0 is
plain PCA, a dimension reduction that keeps cosines nearly as they were. The bank fits it
once it holds ``WHITEN_MIN_ENTRIES`` images (benchmarks/README.md, Stage 1, says what each
setting measured).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["Whitening", "fit_whitening"]

# Rows used to fit at most: the covariance of 100k descriptors is as good as of a million,
# and keeps the fit under a minute at 1 M entries.
FIT_SAMPLE = 100_000
FIT_CHUNK = 8192


@dataclass(frozen=True)
class Whitening:
    """mean: (D,) float32. projection: (D, d) float32 (columns = principal directions
    scaled by lambda^-alpha). alpha: the exponent it was fitted with."""

    mean: np.ndarray
    projection: np.ndarray
    alpha: float

    @property
    def dim(self) -> int:
        return int(self.projection.shape[1])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(N, D) descriptors -> (N, d) float32 unit vectors."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise InputError(f"expected (N, {self.mean.shape[0]}) descriptors to whiten, got {x.shape}")
        y = (x - self.mean) @ self.projection
        return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)


def fit_whitening(x: np.ndarray, dim: int, alpha: float, seed: int = 0) -> Whitening:
    """Fit on (N, D) descriptors (a random ``FIT_SAMPLE`` rows at most): PCA to ``dim``
    directions, each scaled by (lambda + eps)^-alpha, eps = 1e-6 lambda_max for stability."""
    x = np.asarray(x)
    if x.ndim != 2 or len(x) < 2:
        raise InputError(f"expected (N >= 2, D) descriptors to fit a whitening on, got {x.shape}")
    if len(x) > FIT_SAMPLE:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), FIT_SAMPLE, replace=False))]
    # Mean and covariance in chunks of float64 rows: memory D^2, not N x D in float64.
    mean = np.zeros(x.shape[1], np.float64)
    for start in range(0, len(x), FIT_CHUNK):
        mean += x[start : start + FIT_CHUNK].astype(np.float64).sum(axis=0)
    mean /= len(x)
    cov = np.zeros((x.shape[1], x.shape[1]), np.float64)
    for start in range(0, len(x), FIT_CHUNK):
        c = x[start : start + FIT_CHUNK].astype(np.float64) - mean
        cov += c.T @ c
    cov /= len(x) - 1
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][: min(dim, x.shape[1])]
    values, vectors = np.maximum(values[order], 0.0), vectors[:, order]
    scale = (values + 1e-6 * values[0]) ** -alpha
    return Whitening(mean.astype(np.float32), (vectors * scale).astype(np.float32), float(alpha))
