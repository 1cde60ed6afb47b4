"""Colour Distribution Consistency (CDC), the NTIRE 2023 video colorization challenge's
temporal-consistency index (Kang et al., NTIRE 2023 challenge report, eq. (1)-(2);
introduced by Liu et al., "Temporally consistent video colorization with deep feature
propagation and self-regularization learning" (TCVC)).

For each colour channel c of an 8-bit RGB frame, P_c(X) is the 256-bin histogram of the
channel normalised to sum to 1. Then (report eq. (1))

    CDC_t = 1 / (3 (N - t)) * sum_{i=1..N-t} sum_{c in R,G,B} JS(P_c(X_i), P_c(X_{i+t}))

with JS the Jensen-Shannon divergence in nats (natural log, so 0 <= JS <= ln 2), and
(report eq. (2))

    CDC = (CDC_1 + CDC_2 + CDC_4) / 3.

Lower is more consistent; the ground truth's own CDC is the level to aim for.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from .frames import as_frames

__all__ = ["cdc", "channel_histograms", "js_divergence", "cdc_step", "cdc_curve", "CDC_STEPS"]

CDC_STEPS = (1, 2, 4)  # NTIRE 2023 report eq. (2)


def channel_histograms(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB -> (T, 3, 256) float64 per-channel histograms summing to 1."""
    t, h, w, _ = frames.shape
    counts = np.empty((t, 3, 256), np.float64)
    for i in range(t):  # frame by frame: bounded memory on long clips
        for c in range(3):
            counts[i, c] = np.bincount(frames[i, :, :, c].ravel(), minlength=256)
    return counts / float(h * w)


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence in nats along the last axis of two distributions.

    JS(P, Q) = KL(P || M) / 2 + KL(Q || M) / 2 with M = (P + Q) / 2 (0 log 0 = 0).

    >>> round(float(js_divergence(np.array([1.0, 0.0]), np.array([0.0, 1.0]))), 6)  # ln 2
    0.693147
    """
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / np.where(m > 0, m, 1.0)), 0.0)
        kl_q = np.where(q > 0, q * np.log(q / np.where(m > 0, m, 1.0)), 0.0)
    return 0.5 * kl_p.sum(axis=-1) + 0.5 * kl_q.sum(axis=-1)


def _pairs(hist: np.ndarray, step: int) -> np.ndarray:
    """(N - step,) JS divergence between frames i and i + step, averaged over channels."""
    return js_divergence(hist[:-step], hist[step:]).mean(axis=1)


def cdc_step(frames: Any, step: int) -> float:
    """CDC_t of report eq. (1) for one frame step t >= 1; needs more than t frames."""
    x = as_frames(frames)
    if step < 1 or x.shape[0] <= step:
        raise InputError(f"expected more than {step} frames and a step >= 1 for CDC_{step}, got {x.shape[0]} frames and step {step}")
    return float(_pairs(channel_histograms(x), step).mean())


def cdc(frames: Any, steps: Sequence[int] = CDC_STEPS) -> float:
    """CDC of (T, H, W, 3) uint8 RGB frames (T > max(steps), 5 for the default steps).

    Returns the mean over ``steps`` of CDC_t, in nats, in [0, ln 2].

    >>> still = np.zeros((6, 4, 4, 3), np.uint8)
    >>> cdc(still)
    0.0
    """
    x = as_frames(frames)
    if not steps:
        raise InputError("expected at least one frame step for CDC, got none")
    if x.shape[0] <= max(steps):
        raise InputError(f"expected more than {max(steps)} frames for CDC with steps {tuple(steps)}, got {x.shape[0]}")
    hist = channel_histograms(x)
    return float(np.mean([_pairs(hist, s).mean() for s in steps]))


def cdc_curve(frames: Any) -> np.ndarray:
    """(T - 1,) float64: JS divergence between frames i and i + 1 (averaged over R, G, B),
    the per-pair terms of CDC_1, for plotting consistency over time."""
    x = as_frames(frames)
    if x.shape[0] < 2:
        raise InputError(f"expected at least 2 frames for a CDC curve, got {x.shape[0]}")
    return _pairs(channel_histograms(x), 1)
