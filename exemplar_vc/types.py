"""The types both stages share: key frames, exemplars, the first pass's plan, and the
protocol of an exemplar source.

They live here, low in the package (numpy only), so that ``config``, ``keyframes``,
``exemplars`` and ``pipeline`` can all name them without importing one another: importing
``exemplar_vc.config`` loads neither the exemplar sources nor the FAISS reference bank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .modeling.encoder import LuminanceEncoder

__all__ = ["KeyFrame", "Exemplar", "ExemplarSource", "VideoPlan"]


@dataclass(frozen=True)
class KeyFrame:
    """A frame chosen to receive an exemplar.

    index: 0-based frame index in the video. gray: (H, W) uint8 luminance of that frame,
        or, for the key frames of a long video, a ``stored.StoredArray`` that waits on
        disk (``np.asarray(key.gray)`` reads either).
    shot: 0-based index of the shot the frame belongs to.
    """

    index: int
    gray: np.ndarray
    shot: int = 0


@dataclass(frozen=True)
class Exemplar:
    """A colour image assigned to a key frame, with where it came from.

    frame: 0-based index of the key frame it colours.
    image: (H, W, 3) uint8 sRGB, or a ``stored.StoredArray`` waiting on disk when a
        video has many exemplars (``np.asarray(exemplar.image)`` reads either).
    source: "user", "retrieval" or "colorizer".
    origin: file path, bank id or model name the image came from.
    score: how well it matched the key frame (higher is better; None when not scored).
    """

    frame: int
    image: np.ndarray
    source: str
    origin: str
    score: float | None = None


@runtime_checkable
class ExemplarSource(Protocol):
    """Anything that gives key frames their exemplars.

    ``exemplars_for`` receives the key frames of a video and the pipeline's encoder and
    returns at most one exemplar per key frame (key frames it cannot serve are left out).
    """

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: "LuminanceEncoder") -> list[Exemplar]: ...


@dataclass
class VideoPlan:
    """What a first pass over a video learned (``keyframes.plan_video``).

    num_frames: frames read. shot_starts: 0-based first frame of every shot (starts with 0).
    keyframes: frames chosen to receive exemplars, with their gray images, ascending.
    reasons: why each key frame was chosen: "shot", "drift", "gap" or "wanted".
    """

    num_frames: int
    shot_starts: list[int]
    keyframes: list[KeyFrame] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)

    def shot_of(self, index: int) -> int:
        """0-based shot of frame ``index``."""
        return int(np.searchsorted(self.shot_starts, index, side="right")) - 1
