"""Training the merge head alone, on segments as long as the gaps between exemplars.

The U-Net learns on short segments (every step backpropagates through its recurrence,
which bounds their length); the merge head only weighs the two directions' outputs, and
what it must learn depends on how far each direction has carried its colour, up to the
whole gap between two exemplars (49 frames in the every-50 protocol, more in films).
Trained with the U-Net on 6-12-frame segments, it gave the forward colour about an
eighth of the weight one frame before an exemplar 49 frames after the previous one,
where that colour had drifted six times as far as the backward one (held-out clip
monst3r_lady-running): a visible jump into the exemplar frame.

So the head is fitted on its own: both directions are walked over long segments with
the U-Net frozen (no gradient: a 70-frame segment costs what inference costs), a random
subset of each inner frame's pixels is kept with the truth (``collect_samples``), and the
head is fitted to those samples by L1 on the merged chroma (``fit_merge_head``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from ..modeling.propagation_net import MergeHead, PropagationNet
from .data import TrainingSegment
from .loop import _direction, _flows

__all__ = ["MergeSamples", "collect_samples", "fit_merge_head", "forward_weight", "merge_l1"]


@dataclass
class MergeSamples:
    """Pixels of inner frames of two-ended segments, one row each: both directions'
    chroma (N, 2) and confidence (N, 1), the distances (frames) to the two exemplars
    (N, 1) and the true chroma (N, 2); CIE a, b."""

    ab_f: torch.Tensor
    conf_f: torch.Tensor
    ab_b: torch.Tensor
    conf_b: torch.Tensor
    dist_f: torch.Tensor
    dist_b: torch.Tensor
    truth: torch.Tensor

    def __len__(self) -> int:
        return len(self.truth)

    @property
    def share(self) -> torch.Tensor:
        """(N, 1) the forward share of the span, t_to_end / span, as stage 2 computes it."""
        return self.dist_b / (self.dist_f + self.dist_b)

    @classmethod
    def cat(cls, parts: list["MergeSamples"]) -> "MergeSamples":
        if not parts:
            raise ValueError("expected at least one batch of merge samples, got none")
        return cls(**{f.name: torch.cat([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    def take(self, rows: torch.Tensor) -> "MergeSamples":
        return MergeSamples(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def time_reversed(self) -> "MergeSamples":
        """The same pixels as the clip played backwards gives them: the two directions
        (and their distances) trade places. Both directions run one recurrence, so this
        is as real a sample as the original (``MergeHead.time_symmetric``)."""
        return MergeSamples(self.ab_b, self.conf_b, self.ab_f, self.conf_f, self.dist_b, self.dist_f, self.truth)

    def save(self, path) -> None:
        from safetensors.torch import save_file

        save_file({f.name: getattr(self, f.name).contiguous() for f in fields(self)}, str(path))

    @classmethod
    def load(cls, path) -> "MergeSamples":
        from safetensors.torch import load_file

        return cls(**load_file(str(path)))


@torch.no_grad()
def collect_samples(net: PropagationNet, seg: TrainingSegment, pixels: int, rng: np.random.Generator, flow_preset: str = "medium") -> MergeSamples:
    """Walk ``seg`` forward from its left exemplar and backward from its right one, as
    stage 2 does, and keep ``pixels`` random pixels of each inner frame."""
    T = len(seg.indices)
    if T < 3:
        raise ValueError(f"expected a segment of at least 3 frames (one inner frame), got {T}")
    flows = _flows([seg], flow_preset)
    fwd = _direction(net, [seg], list(range(T)), 0, flows)
    bwd = _direction(net, [seg], list(range(T - 1, -1, -1)), 1, flows)[::-1]
    h, w = seg.ab.shape[-2:]
    parts = []
    for t in range(1, T - 1):
        rows = torch.from_numpy(rng.choice(h * w, size=min(pixels, h * w), replace=False))

        def pick(x: torch.Tensor) -> torch.Tensor:  # (1, C, h, w) -> (n, C)
            return x.reshape(x.shape[-3], h * w)[:, rows].T.contiguous()

        n = len(rows)
        parts.append(
            MergeSamples(
                ab_f=pick(fwd[t].ab), conf_f=pick(fwd[t].conf), ab_b=pick(bwd[t].ab), conf_b=pick(bwd[t].conf),
                dist_f=torch.full((n, 1), float(t)), dist_b=torch.full((n, 1), float(T - 1 - t)), truth=pick(seg.ab[t : t + 1]),
            )
        )
    return MergeSamples.cat(parts)


def _img(x: torch.Tensor) -> torch.Tensor:
    """Sample rows (N, C) laid out as one image column (1, C, N, 1): the head is per-pixel."""
    return x.T[None, :, :, None]


def _head_inputs(s: MergeSamples) -> tuple:
    """The samples as the head's eight arguments (every sample anchored both ways)."""
    share = _img(s.share)
    return _img(s.ab_f), _img(s.conf_f), _img(s.ab_b), _img(s.conf_b), share, torch.ones_like(share), _img(s.dist_f), _img(s.dist_b)


def _merged(head: MergeHead, s: MergeSamples) -> torch.Tensor:
    """The head's merged chroma of the samples, (N, 2)."""
    ab, _ = head(*_head_inputs(s))
    return ab[0, :, :, 0].T


@torch.no_grad()
def forward_weight(head: MergeHead, s: MergeSamples) -> torch.Tensor:
    """(N,) the head's weight of the forward colour at each sample."""
    return head.weight(*_head_inputs(s))[0, 0, :, 0]


def merge_l1(head: MergeHead, s: MergeSamples) -> float:
    """Mean absolute error (CIE ab units) of the head's merged chroma on the samples."""
    with torch.no_grad():
        return float((_merged(head, s) - s.truth).abs().mean())


def fit_merge_head(head: MergeHead, s: MergeSamples, steps: int, batch: int = 65536, lr: float = 3e-3, seed: int = 0) -> list[float]:
    """Adam on the L1 of the merged chroma over random batches of the samples (cosine
    learning rate); returns the loss of every step."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    losses = []
    head.train()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * step / steps))
        rows = torch.randint(len(s), (min(batch, len(s)),), generator=gen)
        part = s.take(rows)
        loss = (_merged(head, part) - part.truth).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    head.eval()
    return losses
