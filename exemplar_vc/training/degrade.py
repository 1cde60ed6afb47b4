"""Training segments that look like dim, faded, grainy footage.

Every clip the propagation network trains on is well exposed (gray 1st/99th percentiles
around 12/224), while archive film and some real footage is dim, faded, grainy and
flickers: on such a held-out clip (gray 5/128) the exemplar match wanders and the network
trusted it as on clean footage (benchmarks/README.md, the sample4 diagnosis). A degraded
segment changes only the gray the network and the frozen encoder see, as a dim exposure
or a faded print of the same scene would: the truth's chroma stays, since the task is
the same colour under a worse picture. The encoder's features are computed again from
the degraded gray (on the crop: caching them for every draw is not possible).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ..modeling.encoder import LuminanceEncoder
from .data import TrainingSegment

__all__ = ["Degradation", "degrade_segment"]


@dataclass(frozen=True)
class Degradation:
    """gray -> clip(offset + gain * gray ** gamma + noise), quantised to 8-bit levels.

    gain < 1 and gamma > 1 dim the picture; offset > 0 with gain < 1 fades it (raised
    blacks, low contrast); noise is the standard deviation of fresh per-frame grain (in
    [0, 1] units); flicker is the largest relative change of gain from frame to frame.
    """

    gain: float = 1.0
    gamma: float = 1.0
    offset: float = 0.0
    noise: float = 0.0
    flicker: float = 0.0

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "Degradation":
        """Half dim (gain 0.35-0.8, gamma 1-1.5), half faded (offset 0.05-0.2, gain
        0.5-0.8, gamma 0.8-1.1); grain up to 6 levels; flicker up to 4 %."""
        noise = float(rng.uniform(0.0, 6.0)) / 255.0
        flicker = float(rng.uniform(0.0, 0.04))
        if rng.random() < 0.5:
            return cls(gain=float(rng.uniform(0.35, 0.8)), gamma=float(rng.uniform(1.0, 1.5)), noise=noise, flicker=flicker)
        return cls(gain=float(rng.uniform(0.5, 0.8)), gamma=float(rng.uniform(0.8, 1.1)), offset=float(rng.uniform(0.05, 0.2)), noise=noise, flicker=flicker)

    def frame_gains(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """The gain of each of ``count`` frames (the flicker drawn around ``gain``)."""
        return self.gain * (1.0 + rng.uniform(-self.flicker, self.flicker, size=count))

    def apply(self, gray: torch.Tensor, gain: float, rng: np.random.Generator) -> torch.Tensor:
        """Degrade (..., H, W) gray in [0, 1] with this frame's ``gain``."""
        out = self.offset + gain * gray.clamp(0, 1) ** self.gamma
        if self.noise > 0:
            grain = torch.from_numpy(rng.standard_normal(gray.shape).astype(np.float32))
            out = out + self.noise * grain
        return (out.clamp(0, 1) * 255.0).round() / 255.0


@torch.no_grad()
def degrade_segment(seg: TrainingSegment, rng: np.random.Generator, encoder: LuminanceEncoder, p_clean_exemplar: float = 0.3) -> TrainingSegment:
    """``seg`` with its gray degraded (``Degradation.draw``) and the encoder's features of
    it computed again. An exemplar that is a frame's own colour (aligned) shares that
    frame's degraded gray, as in the protocols; any other exemplar stays clean with
    probability ``p_clean_exemplar`` (a reference photo taken in other light than the
    shot) and is degraded alike otherwise."""
    d = Degradation.draw(rng)
    count = len(seg.indices)
    gains = d.frame_gains(count, rng)
    luma = torch.stack([d.apply(seg.luma[t], float(gains[t]), rng) for t in range(count)])
    y0, x0, h, w = seg.box
    ends = []
    for exemplar, t in ((seg.left, 0), (seg.right, count - 1)):
        _, ab, aligned, gray = exemplar
        if aligned is None and rng.random() < p_clean_exemplar:
            ends.append(exemplar)
            continue
        gray = d.apply(gray, float(gains[t]), rng)
        if aligned is not None:
            luma[t] = gray[0, :, y0 : y0 + h, x0 : x0 + w]
        ends.append((encoder(gray), ab, aligned, gray))
    return replace(seg, luma=luma, feats=encoder(luma), left=ends[0], right=ends[1])
