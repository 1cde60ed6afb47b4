"""Exposure normalisation of what stage 2 analyses: dim or faded footage stretched to the
tonal range the encoder and the network were trained on.

A dim shot (its gray within 5..130 of 0..255) or a faded one (lifted blacks, grays within
135..205) gives weak encoder features, matches that wander and photometric cues on a
scale the network never saw. Each image the stage analyses (every frame, every exemplar)
is stretched by its own 1st and 99th gray percentiles to the typical range of the
training footage, but only ever expanded: an image whose range is already as wide is left
exactly as it is. Only the analysis sees the stretch; the output keeps the input's own
luma (``PropagationConfig.keep``).

Per image, not per shot: stage 2 then stays stateless per frame, so a video colorized in
ranges (``jobs``) or in parallel (``distributed``) comes out as in one pass, and a key
frame and its own colour version, having the same gray, get the same stretch. Measured on
dimmed and faded versions of real clips, and on held-out clips: benchmarks/README.md
("Exposure normalisation").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Exposure", "measure_exposure", "TARGET_LOW", "TARGET_HIGH"]

# Median 1st and 99th gray percentiles (0..255) of the 43 colour clips the propagation
# network trained on (their first 20 frames each; ``training/train_fusion.py``'s clips).
TARGET_LOW, TARGET_HIGH = 12.0, 224.0
# A range this narrow (gray levels) is a flat frame (black of a fade, a blank card): there
# is no tone to stretch, and noise would be amplified.
MIN_RANGE = 16.0
MAX_GAIN = 4.0


@dataclass(frozen=True)
class Exposure:
    """gray' = (gray - mid) * gain + target mid, clamped to [0, 1]; gains of 1 change
    nothing (``apply`` returns its input)."""

    mid: float = 0.5
    gain: float = 1.0

    @property
    def identity(self) -> bool:
        return self.gain == 1.0

    def apply(self, gray: torch.Tensor) -> torch.Tensor:
        """(..., H, W) float gray in [0, 1] -> the same, stretched."""
        if self.identity:
            return gray
        target = (TARGET_LOW + TARGET_HIGH) / 2 / 255.0
        return ((gray - self.mid) * self.gain + target).clamp(0.0, 1.0)


def measure_exposure(gray: np.ndarray | torch.Tensor) -> Exposure:
    """The stretch of one gray image, (H, W) uint8 or a (H, W) float tensor in [0, 1]
    (its 1st and 99th percentiles, the same for both forms of one image).

    >>> dim = np.linspace(5, 129, 64 * 64).reshape(64, 64).astype(np.uint8)
    >>> e = measure_exposure(dim); round(e.gain, 2), e.identity
    (1.75, False)
    >>> measure_exposure(np.linspace(0, 255, 64 * 64).reshape(64, 64).astype(np.uint8)).identity
    True
    """
    if gray.ndim != 2:
        raise ValueError(f"expected an (H, W) gray image, got shape {tuple(gray.shape)}")
    step = max(1, int(np.sqrt(gray.shape[0] * gray.shape[1] / 65536)))  # ~64k samples are plenty for two percentiles
    sample = gray[::step, ::step]
    if isinstance(sample, torch.Tensor):
        sample = (sample.detach().float() * 255.0).cpu().numpy()
    low, high = np.percentile(sample, [1, 99])
    span = float(high - low)
    if span < MIN_RANGE or span >= TARGET_HIGH - TARGET_LOW:
        return Exposure()
    gain = min(MAX_GAIN, (TARGET_HIGH - TARGET_LOW) / span)
    return Exposure(mid=float(low + high) / 2 / 255.0, gain=gain)
