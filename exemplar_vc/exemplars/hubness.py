"""Hubness reduction for the global search: CSLS penalties folded into the FAISS index.

In high dimension a few vectors (hubs) are close to everything and top every query.
Cross-domain similarity local scaling (Conneau et al., "Word translation without parallel
data", ICLR 2018, eq. 6) ranks by

    CSLS(q, x) = 2 cos(q, x) - r(q) - r(x),   r(x) = mean cosine of x to its k nearest neighbours,

so an image close to everything pays for it. r(q) is the same for every image a query is
compared with, so the ranking is that of cos(q, x) - r(x) / 2, an inner product once each
bank vector gets one more coordinate, r(x), and each query the coordinate -1/2
(``augment_bank``, ``augment_queries``): any FAISS inner-product index searches CSLS order.

Two departures from the paper, both for banks of photos:
- r(x) is measured among the bank's own images (queries are unknown when the bank is
  built), ignoring images closer than ``duplicate`` (0.9): frames of one shot are near
  copies of one another, and would otherwise count as a "hub" neighbourhood and be pushed
  down, though they are exactly what a query of that shot should find.
- On a large bank r(x) is measured against a random sample of ``sample`` images, not all
  of them; with fewer candidates the k-th best is lower, but for every x alike.
"""

from __future__ import annotations

import numpy as np

__all__ = ["csls_penalties", "augment_bank", "augment_queries", "CSLS_K", "DUPLICATE_COSINE"]

# Neighbours averaged per image (the paper's k = 10).
CSLS_K = 10
# Neighbours at least this similar are near copies (frames of one shot), not a neighbourhood.
DUPLICATE_COSINE = 0.9
# Images r(x) is measured against, at most.
PENALTY_SAMPLE = 8192


def csls_penalties(vectors: np.ndarray, k: int = CSLS_K, duplicate: float = DUPLICATE_COSINE, sample: int = PENALTY_SAMPLE, seed: int = 0) -> np.ndarray:
    """(N, d) unit vectors -> (N,) float32 r(x): mean of the k largest cosines of each
    vector to the others (to a random ``sample`` of them on a large bank), near copies
    (cosine >= ``duplicate``) and itself excluded. Zero when there are no others."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    if n < 2:
        return np.zeros(n, np.float32)
    ref_rows = np.arange(n) if n <= sample else np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    ref = x[ref_rows]
    out = np.empty(n, np.float32)
    for start in range(0, n, 4096):
        sims = x[start : start + 4096] @ ref.T
        sims[sims >= duplicate] = -np.inf  # near copies, and each vector itself (cosine 1)
        kk = min(k, sims.shape[1])
        top = -np.partition(-sims, kk - 1, axis=1)[:, :kk]
        valid = np.isfinite(top)
        out[start : start + 4096] = np.where(valid.any(1), np.where(valid, top, 0).sum(1) / np.maximum(valid.sum(1), 1), 0.0)
    return out


def augment_bank(vectors: np.ndarray, penalties: np.ndarray | None) -> np.ndarray:
    """(N, d) -> (N, d + 1): the penalty as the last coordinate (0 without hubness reduction)."""
    pen = np.zeros(len(vectors), np.float32) if penalties is None else np.asarray(penalties, np.float32)
    return np.ascontiguousarray(np.concatenate([vectors, pen[:, None]], axis=1), dtype=np.float32)


def augment_queries(queries: np.ndarray) -> np.ndarray:
    """(Q, d) -> (Q, d + 1) with -1/2 last: q'.x' = cos(q, x) - r(x) / 2."""
    return np.ascontiguousarray(np.concatenate([queries, np.full((len(queries), 1), -0.5, np.float32)], axis=1), dtype=np.float32)
