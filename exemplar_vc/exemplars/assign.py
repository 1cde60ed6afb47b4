"""Which key frame gets which image: only a clear, good match is trusted.

A wrong exemplar colours a whole shot wrongly, while a missing one only leaves the shot to
propagation from its other key frames (or to the colorizer, with auto-fill). So a key
frame gets its best image only when all three hold (``AssignmentRule``):

1. good enough: the dense score (``match_score``) reaches ``min_score``;
2. clearly its best: it beats the best *different* image (global descriptor cosine below
   ``DUPLICATE_COSINE``: two stills of one scene are not rivals) by ``margin``;
3. its own scene: the image does not fit another key frame of the video clearly better
   (by more than ``tolerance``), as a photo of shot 1 offered to shot 4 does.

Otherwise the key frame gets nothing, and one ``UserWarning`` per shot left without any
exemplar names the shot, its best candidate and why it was refused.

The thresholds were calibrated on measured dense scores (benchmarks/README.md, Stage 1,
"Dense score calibration"; ``benchmarks/retrieval_calibration.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

from ..types import KeyFrame
from .bank import SearchHit
from .hubness import DUPLICATE_COSINE
from .rerank import MIN_MATCH_SCORE

__all__ = ["AssignmentRule", "Decision", "assign", "warn_unserved", "MIN_MARGIN", "MAX_TOLERANCE"]

# See benchmarks/README.md, "Dense score calibration", for the measurements behind these:
# on bikes.mp4 the right photos beat the runner-up by 0.18-0.33, while two wrong photos
# tied within 0.01; a photo offered to another shot scored 0.21-0.24 below its own shot.
MIN_MARGIN = 0.02
MAX_TOLERANCE = 0.1


@dataclass(frozen=True)
class AssignmentRule:
    """min_score: dense score a match must reach. margin: by how much it must beat the best
    different image. tolerance: how much better the image may fit another key frame."""

    min_score: float = MIN_MATCH_SCORE
    margin: float = MIN_MARGIN
    tolerance: float = MAX_TOLERANCE


@dataclass(frozen=True)
class Decision:
    """The outcome for one key frame. hit: the image it gets (None when refused).
    best: its best candidate. reason: "" when assigned, else why it was refused."""

    key: KeyFrame
    hit: SearchHit | None
    best: SearchHit | None
    reason: str


def assign(
    keyframes: Sequence[KeyFrame],
    hits: Sequence[Sequence[SearchHit]],
    rule: AssignmentRule,
    same_picture: Callable[[SearchHit, SearchHit], bool],
    name: Callable[[SearchHit], str],
) -> list[Decision]:
    """One ``Decision`` per key frame from its re-ranked ``hits`` (best first, dense
    scores). ``same_picture(a, b)``: whether two hits show the same picture (not rivals).
    ``name(hit)``: how the image is named in reasons."""
    # Best score each image reached over all key frames (for rule 3).
    best_of_image: dict[int, tuple[float, KeyFrame]] = {}
    for key, row in zip(keyframes, hits):
        for h in row:
            if h.entry.id not in best_of_image or h.score > best_of_image[h.entry.id][0]:
                best_of_image[h.entry.id] = (h.score, key)
    out = []
    for key, row in zip(keyframes, hits):
        if not row:
            out.append(Decision(key, None, None, "no candidate"))
            continue
        best = row[0]
        rival = next((h for h in row[1:] if not same_picture(best, h)), None)
        elsewhere, other = best_of_image[best.entry.id]
        if best.score < rule.min_score:
            reason = f"best {name(best)} scores {best.score:.2f} < {rule.min_score:.2f}"
        elif rival is not None and best.score - rival.score < rule.margin:
            reason = f"best {name(best)} ({best.score:.2f}) is not clearly better than {name(rival)} ({rival.score:.2f})"
        elif other.shot != key.shot and elsewhere - best.score > rule.tolerance:
            reason = f"best {name(best)} ({best.score:.2f}) fits key frame {other.index} of shot {other.shot} better ({elsewhere:.2f})"
        else:
            out.append(Decision(key, best, best, ""))
            continue
        out.append(Decision(key, None, best, reason))
    return out


def warn_unserved(decisions: Sequence[Decision], what: str, served_shots: frozenset[int] = frozenset(), stacklevel: int = 3) -> None:
    """One ``UserWarning`` per shot none of whose key frames was assigned (and not in
    ``served_shots``: shots with explicit exemplars), naming the shot and the first reason."""
    shots: dict[int, list[Decision]] = {}
    for d in decisions:
        shots.setdefault(d.key.shot, []).append(d)
    for shot, ds in sorted(shots.items()):
        if shot in served_shots or any(d.hit is not None for d in ds):
            continue
        first = ds[0]
        frames = ", ".join(str(d.key.index) for d in ds)
        warnings.warn(
            f"shot {shot} (key frames {frames}) has no trustworthy {what}: {first.reason}; it gets no exemplar from the {what}s "
            "(colour comes from the shot's other exemplars, or from the colorizer with auto-fill)",
            UserWarning,
            stacklevel=stacklevel,
        )
