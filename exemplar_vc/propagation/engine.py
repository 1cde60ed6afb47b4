"""Stage 2 driver: bidirectional propagation between exemplars, shot by shot, streamed.

Frames arrive in order. Frames with a later exemplar in the same shot wait in a segment
buffer; when that exemplar's frame arrives, a backward pass runs over the buffer and each
waiting frame is merged and emitted. Frames with no later exemplar in their shot get the
forward pass only and are emitted at once, so memory never grows with video length.
Colour is never carried across a shot boundary.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from ..color import lab_to_rgb_keep_lightness
from ..config import ColorizerConfig
from ..modeling.colorizer import gated_fill
from ..modeling.encoder import LuminanceEncoder
from .buffer import SegmentBuffer
from .frames import FrameData, PreparedExemplar, analyse_frame, lightness
from .fusion import DirectionState, merge_directions, step
from .upsample import upsample_chroma

__all__ = ["ColorizedFrame", "PropagationEngine"]


@dataclass
class ColorizedFrame:
    """index: 0-based frame index. rgb: (H, W, 3) uint8 sRGB whose Lab lightness is the
    input's. ab: (2, h, w) float32 CIE a, b at the feature grid. confidence: (h, w)
    float32 in [0, 1] at the feature grid."""

    index: int
    rgb: np.ndarray
    ab: np.ndarray
    confidence: np.ndarray


def _flatten_keys(exemplars: list[PreparedExemplar]) -> tuple[torch.Tensor, torch.Tensor]:
    # Exemplars may have different grids; lay all key positions side by side as one row.
    feats = torch.cat([e.feats.flatten(2) for e in exemplars], dim=2)
    ab = torch.cat([e.ab.flatten(2) for e in exemplars], dim=2)
    return feats[:, None, :, None, :], ab[:, None, :, None, :]


class PropagationEngine:
    """Runs stage 2 over a stream of gray frames.

    Args:
        encoder: the frozen luminance encoder.
        config: pipeline settings.
        anchors: ``{frame_index: PreparedExemplar}`` key frames and their exemplars.
        shot_starts: first frame of every shot, ascending, starting with 0.
        device: where tensors live.
        prior: optional features (1, C, h, w) -> (ab, confidence) of an image colorizer,
            blended in where propagation is unsure (``PropagationConfig.fill_in``).
    """

    def __init__(
        self,
        encoder: LuminanceEncoder,
        config: ColorizerConfig,
        anchors: dict[int, PreparedExemplar],
        shot_starts: list[int],
        device: torch.device,
        prior: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None,
    ):
        self.encoder = encoder
        self.config = config
        self.cfg = config.propagation
        self.anchors = anchors
        self.anchor_frames = sorted(anchors)
        self.shot_starts = list(shot_starts) or [0]
        self.device = device
        self.prior = prior
        self._pool = _flatten_keys([anchors[f] for f in self.anchor_frames]) if anchors else None
        self._keys = {f: _flatten_keys([anchors[f]]) for f in self.anchor_frames}

    # -- the plan -----------------------------------------------------------------
    def _shot_end(self, index: int) -> int:
        """First frame after the shot holding ``index`` (a huge number for the last shot)."""
        i = bisect.bisect_right(self.shot_starts, index)
        return self.shot_starts[i] if i < len(self.shot_starts) else 1 << 62

    def _shot_start(self, index: int) -> int:
        return self.shot_starts[bisect.bisect_right(self.shot_starts, index) - 1]

    def _next_anchor(self, index: int) -> int | None:
        i = bisect.bisect_right(self.anchor_frames, index)
        if i < len(self.anchor_frames) and self.anchor_frames[i] < self._shot_end(index):
            return self.anchor_frames[i]
        return None

    def _prev_anchor(self, index: int) -> int | None:
        i = bisect.bisect_left(self.anchor_frames, index) - 1
        if i >= 0 and self.anchor_frames[i] >= self._shot_start(index):
            return self.anchor_frames[i]
        return None

    # -- the work -----------------------------------------------------------------
    def _anchor_state(self, frame: FrameData) -> DirectionState:
        ex = self.anchors[frame.index]
        if ex.ab_aligned is not None:
            ab = ex.ab_aligned
            return DirectionState(ab, torch.ones_like(ab[:, :1]), frame.feats)
        keys, values = self._keys[frame.index]
        return step(frame.feats, None, keys, values, self.cfg)

    def _render(self, frame: FrameData, ab: torch.Tensor, conf: torch.Tensor) -> ColorizedFrame:
        # Key frames go through the same path as every other frame, so nothing pops at them.
        L = lightness(frame.gray, self.device)
        if self.prior is not None:
            prior_ab, _ = self.prior(frame.feats.float())
            ab = gated_fill(ab, conf, prior_ab, self.cfg.fill_in_low, self.cfg.fill_in_high)
        ab_full = upsample_chroma(ab, L / 100.0, self.cfg.upsample, self.cfg.upsample_radius, self.cfg.upsample_eps)
        rgb = lab_to_rgb_keep_lightness(L, ab_full)
        rgb8 = (rgb[0].permute(1, 2, 0) * 255.0).round_().to(torch.uint8).cpu().numpy()
        return ColorizedFrame(frame.index, rgb8, ab[0].float().cpu().numpy(), conf[0, 0].float().cpu().numpy())

    def _forward_keys(self, index: int):
        prev = self._prev_anchor(index)
        return self._keys[prev] if prev is not None else self._pool

    @torch.no_grad()
    def run(self, gray_frames: Iterable[np.ndarray]) -> Iterator[ColorizedFrame]:
        """Yield colorized frames in order, one per input frame."""
        if self._pool is None:
            raise ValueError("expected at least one exemplar to propagate, got none")
        buffer = SegmentBuffer(self.cfg.max_buffer_frames)
        fwd: DirectionState | None = None
        try:
            for index, gray in enumerate(gray_frames):
                if index == self._shot_start(index):
                    fwd = None  # never carry colour across a cut
                frame = analyse_frame(index, gray, self.encoder, self.config.working_size, self.device)
                if index in self.anchors:
                    anchor = self._anchor_state(frame)
                    yield from self._flush_backward(buffer, anchor)
                    fwd = anchor
                    yield self._render(frame, anchor.ab, anchor.conf)
                    continue
                keys, values = self._forward_keys(index)
                fwd = step(frame.feats, fwd, keys, values, self.cfg)
                if self._next_anchor(index) is None:
                    yield self._render(frame, fwd.ab, fwd.conf)
                else:
                    half = FrameData(frame.index, frame.gray, frame.feats.half())
                    buffer.append((half, DirectionState(fwd.ab, fwd.conf, None)))
        finally:
            buffer.clear()

    def _flush_backward(self, buffer: SegmentBuffer, anchor: DirectionState) -> Iterator[ColorizedFrame]:
        """Backward pass from an anchor over the waiting frames, then merge and emit in order."""
        if not len(buffer):
            return
        end = self._next_anchor(buffer[-1][0].index)
        keys, values = self._keys[end]
        bwd = anchor
        merged: list[tuple[int, torch.Tensor, torch.Tensor]] = []
        for i in range(len(buffer) - 1, -1, -1):
            frame, fwd = buffer[i]
            bwd = step(frame.feats, bwd, keys, values, self.cfg)
            start = self._prev_anchor(frame.index)
            if start is None:  # before the shot's first exemplar
                merged.append((i, *merge_directions(_weak(fwd), bwd, 1.0, end - frame.index)))
            else:
                merged.append((i, *merge_directions(fwd, bwd, frame.index - start, end - frame.index)))
        for i, ab, conf in reversed(merged):
            frame, _ = buffer[i]
            yield self._render(frame, ab, conf)
        buffer.clear()


def _weak(state: DirectionState) -> DirectionState:
    # Before the first exemplar of a shot, the forward colour comes from matching all
    # exemplars globally with no temporal anchor: trust it half as much.
    return DirectionState(state.ab, state.conf * 0.5, None)
