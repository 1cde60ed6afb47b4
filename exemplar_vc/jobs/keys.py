"""What a segment's frames depend on, as one SHA-256 (the segment's *key*).

A segment (``propagation/segments.py``) is coloured from its own frames and its anchors:

- the exemplar (and the key frame's gray image) at its ``left_anchor`` and ``right_anchor``;
- with no left anchor (frames before a shot's first exemplar, or a shot without one),
  *every* exemplar of the video: those frames are matched against all of them;

and from the colorizer: its full config, the fusion module's weights, the library version
and the device type (CPU and GPU arithmetic differ in the last bits). The video itself is
named by the signature of the input (``plan_io.source_signature``) and its frame count.

A finished segment is reused exactly when its key is unchanged. So changing the exemplar of
key frame F recomputes the segments whose left or right anchor is F and the segments with
no left anchor; adding or removing an anchor changes the boundaries, hence the keys, of the
segments around it; new settings recompute everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._version import __version__
from ..propagation.segments import Segment
from ..stored import as_array
from .digest import data_sha256, pixels_sha256, state_sha256

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import Stage1Plan, VideoColorizer

__all__ = ["colorizer_key", "segment_keys", "anchors_of"]


def colorizer_key(colorizer: "VideoColorizer", device_type: str | None = None) -> str:
    """SHA-256 of the config, the fusion weights, the library version and the device type
    (``device_type``: that of the processes that will colorize, default the colorizer's)."""
    from ..config_io import config_to_dict

    config = config_to_dict(colorizer.config)
    # Stage 1 only: it reaches a segment through its anchors, which the segment key holds,
    # so turning it on redoes only the segments its new exemplars touch (older jobs keep their keys).
    config.pop("auto_fill", None)
    return data_sha256(
        {
            "config": config,
            "fusion": state_sha256(colorizer.fusion.state_dict()),
            "version": __version__,
            "device": device_type or colorizer.device.type,
        }
    )


def anchors_of(segment: Segment, anchor_frames: list[int]) -> list[int]:
    """The anchors whose exemplars ``segment`` depends on (see the module docstring)."""
    if segment.left_anchor is None:
        return list(anchor_frames)
    return [a for a in (segment.left_anchor, segment.right_anchor) if a is not None]


def segment_keys(stage1: "Stage1Plan", colorizer_digest: str) -> dict[Segment, str]:
    """The key of every segment of ``stage1`` for a colorizer of ``colorizer_digest``."""
    from .plan_io import source_signature

    grays = {k.index: pixels_sha256(as_array(k.gray)) for k in stage1.plan.keyframes}
    anchors = {e.frame: [pixels_sha256(as_array(e.image)), grays.get(e.frame)] for e in stage1.exemplars}
    frames = sorted(anchors)
    base = {"colorizer": colorizer_digest, "source": source_signature(stage1.source), "num_frames": stage1.plan.num_frames}
    return {s: data_sha256({**base, "segment": s.to_dict(), "anchors": {str(a): anchors[a] for a in anchors_of(s, frames)}}) for s in stage1.segments}
