"""Stage 2 driver: for each segment between exemplars, forward, backward, merge, render.

The video is cut into segments (``segments.py``) at shot starts and anchors (key frames
with an exemplar). Frames arrive in order. In a segment with an anchor after it, frames
wait in a buffer (``buffer.py``, spilled to disk past a limit) after their forward step;
when the right anchor's frame arrives, the backward pass runs over them and each frame is
merged and rendered. A segment with no anchor after it gets the forward pass only and its
frames are emitted at once. Memory is thereby bounded by the longest segment, never by
the video's length, and colour never crosses a shot boundary.

Exemplars are held only while a segment needs them: an anchor's exemplar is read from
``anchors`` (prepared there when it is a ``frames.AnchorExemplars``) for the segments that
end or start at it and dropped after, so memory does not grow with their number either.
The keys of every exemplar (for frames before a shot's first exemplar) exist only from
the first segment that needs them to the last one.

What each frame's colour is made of is the fusion module's business
(``modeling/fusion.py``): the engine is the same for every implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np
import torch

from ..color import compose_rgb
from ..color.compose import compose_float
from ..config import ColorizerConfig
from ..errors import InputError
from ..modeling.colorizer import gated_fill
from ..modeling.encoder import LuminanceEncoder
from ..modeling.fusion import DirectionState, ExemplarKeys, Fusion
from .buffer import SegmentBuffer
from .frames import FrameData, PreparedExemplar, analyse_frame, exemplar_chroma, lightness
from .segments import Segment, plan_segments
from .upsample import upsample_chroma

__all__ = ["ColorizedFrame", "PropagationEngine"]


@dataclass
class ColorizedFrame:
    """index: 0-based frame index. rgb: (H, W, 3) uint8 sRGB whose Lab lightness is the
    input's. ab: (2, h, w) float32 CIE a, b as the fusion module made it (feature grid for
    the hand rule, working resolution for the network). confidence: (h, w) float32 in
    [0, 1] on the same grid.

    rgb_tensor: (3, H, W) float sRGB in [0, 1] on the engine's device, unquantised, only
    from an engine built with ``rgb_tensor=True``; ``rgb`` is then None and ``ab`` and
    ``confidence`` stay device tensors, so nothing is copied to the host."""

    index: int
    rgb: np.ndarray | None
    ab: np.ndarray | torch.Tensor
    confidence: np.ndarray | torch.Tensor
    rgb_tensor: torch.Tensor | None = None


def exemplar_keys(exemplars: Iterable[PreparedExemplar]) -> ExemplarKeys:
    """Lay the key positions of one or more exemplars (grids may differ) side by side.

    Only each exemplar's features, chroma and gray are kept while the others are read, so
    an iterable that prepares them one at a time never holds them all at once."""
    feats, ab, luma = [], [], []
    for e in exemplars:
        feats.append(e.feats.flatten(2))
        ab.append(e.ab.flatten(2))
        luma.append(None if e.luma is None else e.luma.flatten(2))
        del e  # not held while the next one is prepared

    def row(parts):
        return torch.cat(parts, dim=2)[:, None, :, None, :]

    return ExemplarKeys(row(feats), row(ab), None if any(x is None for x in luma) else row(luma))


class _FrameStream:
    """Analyses incoming gray frames in order, with a look-ahead of one frame (the right
    anchor is read before the segment's frames are emitted)."""

    def __init__(self, gray_frames: Iterable[np.ndarray], analyse: Callable[[int, np.ndarray], FrameData], n_frames: int, first: int = 0):
        self._frames = iter(gray_frames)
        self._analyse = analyse
        self._n_frames = n_frames
        self._next = first
        self._ahead: FrameData | None = None

    def peek(self) -> FrameData:
        if self._ahead is None:
            try:
                gray = next(self._frames)
            except StopIteration:
                raise InputError(f"expected frames up to {self._n_frames - 1}, but the video ended before frame {self._next}") from None
            self._ahead = self._analyse(self._next, gray)
            self._next += 1
        return self._ahead

    def take(self) -> FrameData:
        frame = self.peek()
        self._ahead = None
        return frame

    def check_exhausted(self) -> None:
        if self._ahead is None and next(self._frames, None) is not None:
            raise InputError(f"expected {self._n_frames} frames, but the video has more")


class PropagationEngine:
    """Runs stage 2 over a stream of gray frames.

    Args:
        encoder: the frozen luminance encoder.
        config: pipeline settings.
        anchors: ``{frame_index: PreparedExemplar}`` key frames and their exemplars; a
            ``frames.AnchorExemplars`` prepares each only when a segment needs it.
        shot_starts: first frame of every shot, ascending, starting with 0.
        n_frames: number of frames the stream will deliver.
        device: where tensors live.
        fusion: the fusion module (``modeling.fusion.Fusion``).
        prior: optional image colorizer, gray (1, 1, h', w') at the working resolution ->
            (ab, confidence), blended in where propagation is unsure
            (``PropagationConfig.fill_in``).
        rgb_tensor: frames keep their float RGB on the device (``ColorizedFrame.rgb_tensor``)
            instead of 8-bit numpy copies (tensor pipelines, high-bit-depth output).
    """

    def __init__(
        self,
        encoder: LuminanceEncoder,
        config: ColorizerConfig,
        anchors: Mapping[int, PreparedExemplar],
        shot_starts: list[int],
        n_frames: int,
        device: torch.device,
        fusion: Fusion,
        prior: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None,
        rgb_tensor: bool = False,
    ):
        self.encoder = encoder
        self.config = config
        self.cfg = config.propagation
        self.anchors = anchors
        self.n_frames = n_frames
        self.device = device
        self.fusion = fusion
        self.prior = prior
        self.rgb_tensor = rgb_tensor
        self.segments: list[Segment] = plan_segments(shot_starts or [0], anchors, n_frames)
        # What the segments at work need, filled as they reach it (see _hold, _release).
        self._held: dict[int, PreparedExemplar] = {}
        self._keys: dict[int, ExemplarKeys] = {}
        self._pool: tuple[tuple[int, ...], ExemplarKeys] | None = None  # (its exemplars, their keys)
        unanchored = [s.start for s in self.segments if s.left_anchor is None]
        self._last_pool_start = unanchored[-1] if unanchored else None
        self._anchor_states: dict[int, DirectionState] = {}

    @torch.no_grad()
    def run(self, gray_frames: Iterable[np.ndarray], segments: list[Segment] | None = None) -> Iterator[ColorizedFrame]:
        """Yield colorized frames in order, one per input frame.

        ``segments``: consecutive segments of ``self.segments`` to colorize (default: all);
        ``gray_frames`` then starts at the first one's first frame and must reach the last
        one's right anchor. Each segment depends only on its frames and its two anchors,
        so its frames are the same as in a full run.
        """
        if not self.anchors:
            raise ValueError("expected at least one exemplar to propagate, got none")
        todo = self.segments if segments is None else list(segments)
        if not todo:
            return
        starts = [s.start for s in self.segments]
        for a, b in zip(todo, todo[1:]):
            if b.start != a.end:
                raise ValueError(f"expected consecutive segments, got one ending at {a.end} then one starting at {b.start}")
        if todo[0].start not in starts:
            raise ValueError(f"expected segments of this plan, got one starting at frame {todo[0].start}")
        frames = _FrameStream(gray_frames, self._analyse, self.n_frames, first=todo[0].start)
        try:
            for i, segment in enumerate(todo):
                yield from self._run_segment(segment, frames)
                self._release(segment, todo[i + 1] if i + 1 < len(todo) else None)
            if segments is None:
                frames.check_exhausted()
        finally:
            # Another run re-reads what it needs; a kept anchor state is recomputed the same.
            self._held.clear()
            self._keys.clear()
            self._anchor_states.clear()

    def _run_segment(self, segment: Segment, frames: _FrameStream) -> Iterator[ColorizedFrame]:
        """Forward through the segment; with a right anchor, then backward, merge, render."""
        buffer = SegmentBuffer(self.cfg.max_buffer_frames)
        try:
            forward = None
            keys = self._pool_keys(segment) if segment.left_anchor is None else self._hold(segment.left_anchor)
            for index in range(segment.start, segment.end):
                frame = frames.take()
                if index == segment.left_anchor:
                    forward = self._anchor_state(frame, keep=False)
                    yield self._render(frame, forward)
                    continue
                forward = self.fusion.step(frame.fusion, forward, keys)
                if segment.bidirectional:
                    buffer.append((frame.buffered(), forward.detached()))
                else:
                    yield self._render(frame, forward)
            if segment.bidirectional:
                yield from self._backward_and_merge(segment, buffer, self._anchor_state(frames.peek(), keep=True))
        finally:
            buffer.clear()

    def _backward_and_merge(self, segment: Segment, buffer: SegmentBuffer, anchor: DirectionState) -> Iterator[ColorizedFrame]:
        """Backward pass from the right anchor over the waiting frames, then merge and
        render them in order."""
        keys = self._hold(segment.right_anchor)
        backward = anchor
        merged: list[DirectionState] = []
        for i in range(len(buffer) - 1, -1, -1):
            frame, forward = buffer[i]
            backward = self.fusion.step(frame.fusion, backward, keys)
            merged.append(self.fusion.merge(forward, backward, segment.distances(frame.index)))
        for i, state in enumerate(reversed(merged)):
            yield self._render(buffer[i][0], state)

    # -- exemplars held ------------------------------------------------------------
    def _hold(self, frame: int) -> ExemplarKeys:
        """An anchor's keys, reading (preparing) its exemplar when not held yet."""
        if frame not in self._held:
            self._held[frame] = self.anchors[frame]
            self._keys[frame] = exemplar_keys([self._held[frame]])
        return self._keys[frame]

    def pool_for(self, segment: Segment) -> tuple[int, ...]:
        """The exemplars a segment with no left anchor matches: the ``pool_size`` nearest
        to it in time (its own shot's first, which follows it, is nearest; ties go to the
        earlier), ascending. All of them when there are no more than ``pool_size``."""
        def distance(f: int) -> int:
            return f - segment.end if f >= segment.end else segment.start - f

        nearest = sorted(self.anchors, key=lambda f: (distance(f), f))[: self.cfg.pool_size]
        return tuple(sorted(nearest))

    def _pool_keys(self, segment: Segment) -> ExemplarKeys:
        """The keys of ``pool_for(segment)``, built when a segment first needs them, reading
        one exemplar at a time, and kept while the next such segments need the same ones."""
        frames = self.pool_for(segment)
        if self._pool is None or self._pool[0] != frames:
            self._pool = None  # the old pool is not held while the new one is built
            self._pool = (frames, exemplar_keys(self.anchors[f] for f in frames))
        return self._pool[1]

    def _release(self, done: Segment, following: Segment | None) -> None:
        """Drop what no later segment needs once ``done`` is finished. Anchors sit at
        segment bounds, so only the following segment can share one with ``done``. The
        pool lasts to the plan's last segment with no left anchor (or until another needs
        other exemplars): a later run of this engine (one segment at a time,
        ``jobs.SegmentEngines``) would rebuild it."""
        keep = set() if following is None else {following.left_anchor, following.right_anchor}
        for frame in [f for f in self._held if f not in keep]:
            del self._held[frame], self._keys[frame]
        if done.left_anchor is None and done.start == self._last_pool_start:
            self._pool = None

    # -- per frame ----------------------------------------------------------------
    def _analyse(self, index: int, gray: np.ndarray) -> FrameData:
        return analyse_frame(index, gray, self.encoder, self.config.working_size, self.device)

    def _anchor_state(self, frame: FrameData, keep: bool) -> DirectionState:
        """A key frame's colour from its exemplar. Computed once: the backward pass that
        ends there keeps it for the forward pass that starts there."""
        state = self._anchor_states.pop(frame.index, None)
        if state is not None:
            return state
        keys = self._hold(frame.index)
        exemplar = self._held[frame.index]
        state = self.fusion.anchor(frame.fusion, exemplar, keys)
        if self.fusion.exact_exemplars and exemplar.ab_aligned is not None:
            state.ab_full = exemplar_chroma(exemplar.exemplar, tuple(frame.gray.shape[-2:]), self.device)
            if self.fusion.carries_detail:  # what the working resolution misses, for the neighbours
                state.detail = (state.ab_full - self._upsample(state.ab, frame)).half()
        if keep:
            self._anchor_states[frame.index] = state
        return state

    def _upsample(self, ab: torch.Tensor, frame: FrameData) -> torch.Tensor:
        """Chroma (1, 2, h, w) brought onto the frame's full-resolution gray."""
        return upsample_chroma(ab, lightness(frame.gray) / 100.0, self.cfg.upsample, self.cfg.upsample_radius, self.cfg.upsample_eps)

    def _render(self, frame: FrameData, state: DirectionState) -> ColorizedFrame:
        # Key frames go through the same path as every other frame, so nothing pops at them.
        ab, conf = state.ab, state.conf
        if state.ab_full is not None:
            ab_full = state.ab_full
        else:
            if self.prior is not None:
                prior_ab, _ = self.prior(frame.luma.float())
                if prior_ab.shape[-2:] != ab.shape[-2:]:
                    prior_ab = torch.nn.functional.interpolate(prior_ab, size=ab.shape[-2:], mode="bilinear", align_corners=False)
                ab = gated_fill(ab, conf, prior_ab, self.cfg.fill_in_low, self.cfg.fill_in_high)
            ab_full = self._upsample(ab, frame)
            if state.detail is not None:
                ab_full = ab_full + state.detail.to(ab_full.dtype)
        if self.rgb_tensor:  # the float RGB compose_rgb would round, kept on the device
            rgb = compose_float(frame.gray, ab_full, self.cfg.keep)
            return ColorizedFrame(frame.index, None, ab[0], conf[0, 0], rgb_tensor=rgb[0])
        rgb8 = compose_rgb(frame.gray, ab_full, keep=self.cfg.keep)
        return ColorizedFrame(frame.index, rgb8, ab[0].float().cpu().numpy(), conf[0, 0].float().cpu().numpy())
