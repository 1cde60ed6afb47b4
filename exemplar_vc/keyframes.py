"""Shot boundaries and key frames of a gray video.

Hard cuts are found from the change of the gray-level histogram between consecutive
frames, relative to the typical change around them, so fast motion inside a shot does
not read as a cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .exemplars.base import KeyFrame

__all__ = ["ShotConfig", "VideoPlan", "histogram_distance", "detect_shots", "plan_video"]


@dataclass(frozen=True)
class ShotConfig:
    """threshold: histogram distance (0..1) above which a cut is possible; ratio: how many
    times the median of the surrounding distances it must exceed; window: frames each side."""

    threshold: float = 0.35
    ratio: float = 3.0
    window: int = 5
    bins: int = 32


@dataclass
class VideoPlan:
    """What a first pass over a video learned.

    num_frames: frames read. shot_starts: 0-based first frame of every shot (starts with 0).
    keyframes: frames chosen to receive exemplars, with their gray images.
    """

    num_frames: int
    shot_starts: list[int]
    keyframes: list[KeyFrame] = field(default_factory=list)

    def shot_of(self, index: int) -> int:
        return int(np.searchsorted(self.shot_starts, index, side="right")) - 1


def _histogram(gray: np.ndarray, bins: int) -> np.ndarray:
    small = gray[::4, ::4]
    h = np.bincount(((small.astype(np.int32) * bins) >> 8).ravel(), minlength=bins).astype(np.float64)
    return h / max(h.sum(), 1.0)


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two normalised histograms, in [0, 1]."""
    return 0.5 * float(np.abs(a - b).sum())


def detect_shots(distances: list[float], config: ShotConfig = ShotConfig()) -> list[int]:
    """Shot starts from the consecutive-frame histogram distances (distances[i] is between
    frame i and i+1)."""
    d = np.asarray(distances, dtype=np.float64)
    starts = [0]
    for i, value in enumerate(d):
        if value < config.threshold:
            continue
        lo, hi = max(0, i - config.window), min(len(d), i + config.window + 1)
        around = np.concatenate([d[lo:i], d[i + 1 : hi]])
        local = float(np.median(around)) if around.size else 0.0
        if value > config.ratio * max(local, 0.02):
            starts.append(i + 1)
    return starts


def plan_video(gray_frames: Iterable[np.ndarray], wanted: set[int] | None = None, config: ShotConfig = ShotConfig()) -> VideoPlan:
    """One pass: count frames, find shots, keep the gray images of shot starts and ``wanted``.

    Only candidate cut frames (and ``wanted``) are kept, so memory does not grow with length.
    """
    wanted = wanted or set()
    distances: list[float] = []
    kept: dict[int, np.ndarray] = {}
    prev = None
    n = 0
    for n, gray in enumerate(gray_frames, start=1):
        i = n - 1
        hist = _histogram(gray, config.bins)
        if prev is not None:
            distances.append(histogram_distance(prev, hist))
        prev = hist
        if i == 0 or i in wanted or distances[-1] >= config.threshold:
            kept[i] = gray
    starts = detect_shots(distances, config)
    keys = sorted(set(starts) | {i for i in wanted if i < n})
    keyframes = [KeyFrame(i, kept[i], shot=int(np.searchsorted(starts, i, side="right")) - 1) for i in keys]
    return VideoPlan(num_frames=n, shot_starts=starts, keyframes=keyframes)
