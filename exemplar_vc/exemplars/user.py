"""The user's own colour images as exemplars: explicit per frame, or assigned automatically
by searching them as a small in-memory ``ReferenceBank``."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from ..errors import InputError
from ..io.images import load_color_image
from ..modeling.encoder import LuminanceEncoder
from ..types import Exemplar, KeyFrame
from .bank import ReferenceBank
from .retriever import best_matches

__all__ = ["UserReferences", "MIN_SIMILARITY", "CANDIDATES"]

# Dense match score under which a key frame gets no exemplar. Measured on the legacy films:
# a reference of the same scene scores about 0.7-0.8, an unrelated photo 0.6-0.67;
# unrelated synthetic textures score below 0.5.
MIN_SIMILARITY = 0.5
# Images re-ranked densely per key frame: a user gives a handful, and three closest by
# global embedding keep the dense re-ranking (the slow step) to three matches.
CANDIDATES = 3


def _origin(image: Any, i: int) -> str:
    return os.fspath(image) if isinstance(image, (str, os.PathLike)) else f"image[{i}]"


class UserReferences:
    """Exemplars from the user's images.

    Args:
        images: colour images (paths, arrays, PIL images or tensors) assigned to key frames
            automatically. They are searched as an in-memory ``ReferenceBank`` (flat FAISS
            index): the ``candidates`` most similar by global embedding (cosine of
            ``global_embedding``) are re-ranked by dense correspondence (``match_score``,
            bidirectional mean best cosine of encoder features, in [-1, 1]).
        explicit: ``{frame_index: image}``; always wins over automatic assignment.
        min_similarity: below this dense match score a key frame gets no exemplar (warned);
            see ``MIN_SIMILARITY``.
        candidates: how many global-embedding candidates are re-ranked densely.
    """

    def __init__(
        self,
        images: Sequence[Any] = (),
        explicit: Mapping[int, Any] | None = None,
        min_similarity: float = MIN_SIMILARITY,
        candidates: int = CANDIDATES,
    ):
        self.images = [load_color_image(im, name=f"reference {_origin(im, i)!r}") for i, im in enumerate(images)]
        self.origins = [_origin(im, i) for i, im in enumerate(images)]
        self.explicit: dict[int, Exemplar] = {}
        for frame, im in (explicit or {}).items():
            if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
                raise InputError(f"expected exemplar frame indices as integers >= 0, got {frame!r}")
            self.explicit[frame] = Exemplar(
                frame, load_color_image(im, name=f"exemplar for frame {frame}"), "user", _origin(im, frame), None
            )
        self.min_similarity = min_similarity
        if candidates < 1:
            raise InputError(f"expected candidates >= 1, got {candidates}")
        self.candidates = candidates
        self._bank: ReferenceBank | None = None

    @property
    def explicit_frames(self) -> list[int]:
        return sorted(self.explicit)

    def _bank_for(self, encoder: LuminanceEncoder) -> ReferenceBank:
        """The images as a bank embedded by ``encoder`` (built once per encoder)."""
        if self._bank is None or self._bank.encoder is not encoder:
            self._bank = ReferenceBank(encoder)
            self._bank.add_images(self.images, self.origins)
        return self._bank

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        out = [self.explicit[f] for f in self.explicit_frames]
        todo = [k for k in keyframes if k.index not in self.explicit]
        if not self.images or not todo:
            return out
        bank = self._bank_for(encoder)
        for key, hit in best_matches(bank, todo, self.candidates, True, self.min_similarity, "reference"):
            i = bank.entries.index(hit.entry)  # entries are the images, in order
            out.append(Exemplar(key.index, self.images[i], "user", self.origins[i], hit.score))
        return sorted(out, key=lambda e: e.frame)
