"""The user's own colour images as exemplars: explicit per frame, or assigned automatically
by searching them as a small in-memory ``ReferenceBank``."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from ..errors import InputError
from ..io.images import load_color_image
from ..modeling.encoder import LuminanceEncoder
from ..stored import ArrayShelf
from ..types import Exemplar, KeyFrame
from .assign import AssignmentRule, Decision
from .bank import BankConfig, ReferenceBank
from .rerank import MIN_MATCH_SCORE
from .retriever import match_keyframes

__all__ = ["UserReferences", "MIN_SIMILARITY", "CANDIDATES"]

# Dense match score under which a key frame gets no exemplar: the one threshold of stage 1
# (``rerank.MIN_MATCH_SCORE``), so a user image's score means what a bank image's does.
MIN_SIMILARITY = MIN_MATCH_SCORE
# Images re-ranked densely per key frame: a user gives a handful; the four closest by
# content descriptor keep the dense re-ranking (the slow step) short and leave the best
# image a rival to be compared with (``assign.py``, rule 2).
CANDIDATES = 4


def _origin(image: Any, i: int) -> str:
    return os.fspath(image) if isinstance(image, (str, os.PathLike)) else f"image[{i}]"


class UserReferences:
    """Exemplars from the user's images.

    Args:
        images: colour images (paths, arrays, PIL images or tensors) assigned to key frames
            automatically. They are searched as an in-memory ``ReferenceBank``: the
            ``candidates`` most similar by content descriptor are re-ranked by dense
            correspondence (``match_score``, bidirectional mean best cosine of encoder
            features, in [-1, 1]), and a key frame gets its best image only when the
            assignment rule trusts it (``assign.py``): the score reaches ``min_similarity``,
            beats the best different image clearly, and the image does not fit another
            shot clearly better. Every shot left without an exemplar is named in a
            ``UserWarning``; ``decisions`` keeps the last call's outcome per key frame.
        explicit: ``{frame_index: image}``; always wins over automatic assignment.
        min_similarity: below this dense match score a key frame gets no exemplar; see
            ``MIN_SIMILARITY``.
        candidates: how many descriptor candidates are re-ranked densely.
        rule: all assignment thresholds (``AssignmentRule``); overrides ``min_similarity``.
        images_in_memory: explicit exemplars kept in memory; the others are checked on
            loading, then wait on disk until stage 2 reads them (``stored.ArrayShelf``), so
            an exemplar every few seconds of a feature film does not grow memory. None:
            all in memory.
    """

    def __init__(
        self,
        images: Sequence[Any] = (),
        explicit: Mapping[int, Any] | None = None,
        min_similarity: float = MIN_SIMILARITY,
        candidates: int = CANDIDATES,
        rule: AssignmentRule | None = None,
        images_in_memory: int | None = 32,
    ):
        self.images = [load_color_image(im, name=f"reference {_origin(im, i)!r}") for i, im in enumerate(images)]
        self.origins = [_origin(im, i) for i, im in enumerate(images)]
        self.explicit: dict[int, Exemplar] = {}
        shelf = ArrayShelf(images_in_memory)
        for frame, im in (explicit or {}).items():
            if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
                raise InputError(f"expected exemplar frame indices as integers >= 0, got {frame!r}")
            image = shelf.put(load_color_image(im, name=f"exemplar for frame {frame}"))
            self.explicit[frame] = Exemplar(frame, image, "user", _origin(im, frame), None)
        self.rule = rule or AssignmentRule(min_score=min_similarity)
        self.min_similarity = self.rule.min_score
        if candidates < 1:
            raise InputError(f"expected candidates >= 1, got {candidates}")
        self.candidates = candidates
        self._bank: ReferenceBank | None = None
        self.decisions: list[Decision] = []  # of the last call, for reports

    @property
    def explicit_frames(self) -> list[int]:
        return sorted(self.explicit)

    def _bank_for(self, encoder: LuminanceEncoder) -> ReferenceBank:
        """The images as a bank embedded by ``encoder`` (built once per encoder)."""
        if self._bank is None or self._bank.encoder is not encoder:
            self._bank = ReferenceBank(encoder, BankConfig(hubness="none"))  # a handful: no hubs to speak of
            self._bank.add_images(self.images, self.origins)
        return self._bank

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        out = [self.explicit[f] for f in self.explicit_frames]
        todo = [k for k in keyframes if k.index not in self.explicit]
        if not self.images or not todo:
            return out
        bank = self._bank_for(encoder)
        served = frozenset(k.shot for k in keyframes if k.index in self.explicit)
        self.decisions = match_keyframes(bank, todo, self.candidates, self.rule, "reference", served)
        for d in self.decisions:
            if d.hit is not None:
                i = bank.entries.index(d.hit.entry)  # entries are the images, in order
                out.append(Exemplar(d.key.index, self.images[i], "user", self.origins[i], d.hit.score))
        return sorted(out, key=lambda e: e.frame)
