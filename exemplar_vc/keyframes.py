"""Shot boundaries and key frames of a gray video, in one streaming pass.

Shots. Every frame gets a cheap descriptor: a 32-bin gray-level histogram and a 32x32
area-averaged thumbnail. The change between consecutive frames is the mean of the
histogram's total-variation distance and the thumbnail's mean absolute difference
(scaled so 64 grey levels count as 1). A hard cut is a change above ``threshold`` that
is also ``ratio`` times the median change of the ``window`` frames on each side, so fast
motion inside a shot, which changes many consecutive frames, does not read as a cut
(the adaptive local threshold of Yeo & Liu 1995, "Rapid scene analysis on compressed
video"). A fade through black (or any flat frame) ends a shot: the first frame with
content after a run of flat frames starts a new one.

Key frames. The first frame of every shot, plus a frame wherever the content has drifted
from the last key frame by more than ``drift`` (same change measure, or a caller's own
feature distance), and at least every ``max_gap`` frames. Propagation never crosses a
shot start, so every shot owns at least one key frame.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from .errors import InputError
from .stored import ArrayShelf
from .types import KeyFrame, VideoPlan

__all__ = [
    "ShotConfig",
    "VideoPlan",
    "FrameDescriptor",
    "KeyFramePlanner",
    "describe_frame",
    "frame_change",
    "histogram_distance",
    "detect_shots",
    "plan_video",
]

# Thumbnail side (pixels) of a frame descriptor: coarse enough to ignore noise and grain,
# fine enough to see a new layout.
THUMB_SIZE = 32
# Thumbnail mean absolute difference (grey levels) that counts as a full change (1.0):
# a quarter of the grey range, which only a different picture reaches on average.
THUMB_FULL_CHANGE = 64.0
# The histogram reads every 4th pixel in each direction (1/16 of them) of frames whose
# short side is at least 128 px: as good for comparing frames, 16 times cheaper.
HIST_STEP = 4
HIST_STEP_MIN_SIDE = 128
# Floor on the median change around a candidate cut, so a perfectly still surrounding
# (median 0) cannot make any change a cut by the ratio test alone; with the defaults
# (threshold 0.3 > ratio 3 x 0.02) the threshold test is the stricter one.
MIN_LOCAL_CHANGE = 0.02


@dataclass(frozen=True)
class ShotConfig:
    """Settings of shot detection and key-frame choice.

    threshold: frame change (0..1, see ``frame_change``) above which a cut is possible.
    ratio: how many times the median change of the surrounding frames a cut must exceed.
    window: frames on each side that form that surrounding.
    bins: gray-level histogram bins.
    flat_std: a frame whose thumbnail standard deviation (grey levels, 0..255) is below
        this is flat (black or white in a fade); 0 disables fade detection.
    drift: change from the last key frame (same 0..1 scale) above which a new key frame is
        taken inside a shot; values >= 1 disable drift key frames.
    min_gap: no drift key frame closer than this (frames) to the previous key frame.
    max_gap: a key frame at least every ``max_gap`` frames inside a shot; 0 disables.
    """

    threshold: float = 0.3
    ratio: float = 3.0
    window: int = 5
    bins: int = 32
    flat_std: float = 6.0
    drift: float = 0.35
    min_gap: int = 12
    max_gap: int = 240

    def __post_init__(self) -> None:
        if self.window < 1 or self.bins < 2 or self.min_gap < 1 or self.max_gap < 0:
            raise InputError(
                f"expected window >= 1, bins >= 2, min_gap >= 1 and max_gap >= 0, got window={self.window}, "
                f"bins={self.bins}, min_gap={self.min_gap}, max_gap={self.max_gap}"
            )


@dataclass(frozen=True)
class FrameDescriptor:
    """hist: (bins,) float64 summing to 1. thumb: (32, 32) float32 grey levels 0..255."""

    hist: np.ndarray
    thumb: np.ndarray

    @property
    def flat_std(self) -> float:
        return float(self.thumb.std())


def describe_frame(gray: np.ndarray, bins: int = 32) -> FrameDescriptor:
    """(H, W) uint8 gray -> its histogram and 32x32 thumbnail."""
    import cv2

    if not isinstance(gray, np.ndarray) or gray.ndim != 2 or gray.dtype != np.uint8:
        what = f"{gray.dtype} array of shape {gray.shape}" if isinstance(gray, np.ndarray) else type(gray).__name__
        raise InputError(f"expected (H, W) uint8 gray frames, got {what}")
    small = gray[::HIST_STEP, ::HIST_STEP] if min(gray.shape) >= HIST_STEP_MIN_SIDE else gray
    h = np.bincount(((small.astype(np.int32) * bins) >> 8).ravel(), minlength=bins).astype(np.float64)
    thumb = cv2.resize(gray, (THUMB_SIZE, THUMB_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    return FrameDescriptor(h / max(h.sum(), 1.0), thumb)


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two normalised histograms, in [0, 1]."""
    return 0.5 * float(np.abs(a - b).sum())


def frame_change(a: FrameDescriptor, b: FrameDescriptor) -> float:
    """Change between two frames in [0, 1]: mean of histogram and thumbnail distances.

    >>> import numpy as np
    >>> black, white = np.zeros((64, 64), np.uint8), np.full((64, 64), 255, np.uint8)
    >>> frame_change(describe_frame(black), describe_frame(black)), frame_change(describe_frame(black), describe_frame(white))
    (0.0, 1.0)
    """
    pixels = min(1.0, float(np.abs(a.thumb - b.thumb).mean()) / THUMB_FULL_CHANGE)
    return 0.5 * histogram_distance(a.hist, b.hist) + 0.5 * pixels


def _is_cut(changes: np.ndarray, i: int, config: ShotConfig) -> bool:
    """changes[i] is between frame i and i + 1; True when frame i + 1 starts a new shot."""
    value = changes[i]
    if value < config.threshold:
        return False
    lo, hi = max(0, i - config.window), min(len(changes), i + config.window + 1)
    around = np.concatenate([changes[lo:i], changes[i + 1 : hi]])
    local = float(np.median(around)) if around.size else 0.0
    return bool(value > config.ratio * max(local, MIN_LOCAL_CHANGE))


def detect_shots(distances: list[float], config: ShotConfig = ShotConfig()) -> list[int]:
    """Shot starts (hard cuts only) from consecutive-frame changes (distances[i] is between
    frame i and i + 1).

    >>> detect_shots([0.01, 0.02, 0.9, 0.01, 0.02, 0.01])
    [0, 3]
    """
    d = np.asarray(distances, dtype=np.float64)
    return [0] + [i + 1 for i in range(len(d)) if _is_cut(d, i, config)]


@dataclass
class _Pending:
    index: int
    gray: np.ndarray
    desc: FrameDescriptor


class KeyFramePlanner:
    """Streaming state of ``plan_video``: ``push`` frames in order, then ``finish``.

    A frame is decided ``config.window`` frames after it arrives (a cut needs the changes
    on both sides), so memory holds ``window + 1`` frames plus the key frames kept.

    Args:
        config: thresholds. wanted: frames that must be key frames (explicit exemplars).
        feature: optional ``gray -> (D,) unit vector`` used for drift instead of the
            built-in change measure; drift is then ``1 - cosine`` to the last key frame.
        shelf: where the key frames' gray images are kept (``stored.ArrayShelf``: past
            its allowance, on disk); None keeps them all in memory.
    """

    def __init__(
        self,
        config: ShotConfig = ShotConfig(),
        wanted: Iterable[int] = (),
        feature: Callable[[np.ndarray], np.ndarray] | None = None,
        shelf: ArrayShelf | None = None,
    ):
        self.config = config
        self.shelf = shelf
        self.wanted = set(wanted)
        self.feature = feature
        self.changes: list[float] = []
        self.pending: deque[_Pending] = deque()
        self.prev: FrameDescriptor | None = None
        self.prev_flat = False
        self.flat_since = 0
        self.count = 0
        self.shot_starts: list[int] = []
        self.keyframes: list[KeyFrame] = []
        self.reasons: dict[int, str] = {}
        self.last_key: tuple[int, FrameDescriptor, np.ndarray | None] | None = None

    def push(self, gray: np.ndarray) -> None:
        desc = describe_frame(gray, self.config.bins)
        if self.prev is not None:
            self.changes.append(frame_change(self.prev, desc))
        self.prev = desc
        self.pending.append(_Pending(self.count, gray, desc))
        self.count += 1
        while self.pending and self.pending[0].index + self.config.window < self.count:
            self._decide(self.pending.popleft())

    def finish(self) -> VideoPlan:
        while self.pending:
            self._decide(self.pending.popleft())
        return VideoPlan(self.count, self.shot_starts, self.keyframes, self.reasons)

    def _drift(self, frame: _Pending) -> float:
        _, desc, vec = self.last_key
        if self.feature is None:
            return frame_change(desc, frame.desc)
        return 1.0 - float(np.dot(vec, self.feature(frame.gray)))

    def _decide(self, frame: _Pending) -> None:
        i, cfg = frame.index, self.config
        flat = cfg.flat_std > 0 and frame.desc.flat_std < cfg.flat_std
        changes = np.asarray(self.changes[max(0, i - 1 - cfg.window) : i + cfg.window], dtype=np.float64)
        cut = i > 0 and _is_cut(changes, min(i - 1, cfg.window), cfg)
        after_fade = i > 0 and self.prev_flat and not flat
        if flat and not self.prev_flat:
            self.flat_since = i
        self.prev_flat = flat
        if after_fade and self.shot_starts[-1] >= max(self.flat_since, 1) and self.keyframes[-1].index == self.shot_starts[-1]:
            # A cut into the black of a fade: one transition, one shot start (after it).
            del self.reasons[self.shot_starts.pop()]
            self.keyframes.pop()
        reason = None
        if i == 0 or cut or after_fade:
            self.shot_starts.append(i)
            reason = "shot"
        elif i in self.wanted:
            reason = "wanted"
        elif self.last_key is not None and not flat:
            gap = i - self.last_key[0]
            if cfg.max_gap and gap >= cfg.max_gap:
                reason = "gap"
            elif gap >= cfg.min_gap and cfg.drift < 1 and self._drift(frame) > cfg.drift:
                reason = "drift"
        if reason is None:
            return
        vec = self.feature(frame.gray) if self.feature is not None else None
        self.last_key = (i, frame.desc, vec)
        gray = frame.gray if self.shelf is None else self.shelf.put(frame.gray)
        self.keyframes.append(KeyFrame(i, gray, shot=len(self.shot_starts) - 1))
        self.reasons[i] = reason


def plan_video(
    gray_frames: Iterable[np.ndarray],
    wanted: set[int] | None = None,
    config: ShotConfig = ShotConfig(),
    feature: Callable[[np.ndarray], np.ndarray] | None = None,
    shelf: ArrayShelf | None = None,
) -> VideoPlan:
    """One pass over (H, W) uint8 gray frames: count them, find shots, choose key frames.

    Key frames are shot starts, frames in ``wanted``, drift and max-gap frames; only their
    gray images are kept, on ``shelf`` when given (past its allowance they wait on disk,
    so memory does not grow with the video's length), else in memory.

    >>> import numpy as np
    >>> dark, bright = np.full((48, 64), 40, np.uint8), np.full((48, 64), 200, np.uint8)
    >>> plan = plan_video([dark] * 8 + [bright] * 8, wanted={3})
    >>> plan.shot_starts, [k.index for k in plan.keyframes]
    ([0, 8], [0, 3, 8])
    """
    planner = KeyFramePlanner(config, wanted or (), feature, shelf)
    for gray in gray_frames:
        planner.push(gray)
    return planner.finish()
