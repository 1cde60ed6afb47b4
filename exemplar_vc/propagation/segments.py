"""The unit of work of stage 2: the segment between two exemplars of a shot.

A shot's anchors (key frames with an exemplar) cut it into segments. Each segment is a run
of frames ``start .. end - 1``; when it begins at an anchor, that anchor is its first frame.
Its colour depends only on its frames and on the anchors on its two sides:

- ``left_anchor``: the anchor at ``start`` (None before the shot's first anchor: colour then
  comes forward from matching every exemplar, with no temporal anchor);
- ``right_anchor``: the anchor just after ``end - 1`` in the same shot, where the backward
  pass starts (None after the shot's last anchor: forward pass only).

Colour never crosses a shot boundary, so no segment does either. Segments cover every
frame exactly once, in order.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable

__all__ = ["Segment", "plan_segments"]


@dataclass(frozen=True)
class Segment:
    """Frames ``start .. end - 1`` (0-based) of shot number ``shot``.

    left_anchor: ``start`` when the segment begins at an anchor, else None.
    right_anchor: first anchor after the segment in the same shot (== ``end``), else None.
    """

    shot: int
    start: int
    end: int
    left_anchor: int | None
    right_anchor: int | None

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def bidirectional(self) -> bool:
        """True when a backward pass from ``right_anchor`` reaches the segment's frames."""
        return self.right_anchor is not None

    def distances(self, index: int) -> tuple[int | None, int | None]:
        """Frames from the left anchor to ``index`` and from ``index`` to the right anchor
        (None where that side has no anchor)."""
        left = None if self.left_anchor is None else index - self.left_anchor
        right = None if self.right_anchor is None else self.right_anchor - index
        return left, right

    def to_dict(self) -> dict:
        return {"shot": self.shot, "start": self.start, "end": self.end, "left_anchor": self.left_anchor, "right_anchor": self.right_anchor}


def plan_segments(shot_starts: Iterable[int], anchor_frames: Iterable[int], n_frames: int) -> list[Segment]:
    """Cut ``n_frames`` frames into segments at shot starts and anchors.

    Args:
        shot_starts: first frame of every shot (0 is added when missing).
        anchor_frames: frames that have an exemplar.
        n_frames: number of frames in the video.

    >>> [(s.start, s.end, s.left_anchor, s.right_anchor) for s in plan_segments([0, 6], [2, 4], 9)]
    [(0, 2, None, 2), (2, 4, 2, 4), (4, 6, 4, None), (6, 9, None, None)]
    """
    if n_frames < 0:
        raise ValueError(f"expected n_frames >= 0, got {n_frames}")
    starts = sorted({0, *(int(s) for s in shot_starts)})
    anchors = sorted({int(a) for a in anchor_frames})
    for value, what in [(starts[-1], "shot start"), (anchors[-1] if anchors else 0, "anchor frame")]:
        if n_frames and not 0 <= value < n_frames:
            raise ValueError(f"expected every {what} in 0..{n_frames - 1}, got {value}")
    segments: list[Segment] = []
    bounds = [s for s in starts if s < n_frames] + [n_frames]
    for shot, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        inside = anchors[bisect.bisect_left(anchors, lo) : bisect.bisect_left(anchors, hi)]
        cuts = [lo, *(a for a in inside if a > lo), hi]
        for start, end in zip(cuts[:-1], cuts[1:]):
            left = start if start in inside else None
            right = end if end < hi and end in inside else None
            segments.append(Segment(shot, start, end, left, right))
    return segments
