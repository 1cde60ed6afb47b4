"""The user's own colour images as exemplars: explicit per frame, or assigned automatically."""

from __future__ import annotations

import os
import warnings
from typing import Any, Mapping, Sequence

import torch

from ..errors import InputError
from ..io.images import load_color_image
from ..modeling.encoder import LuminanceEncoder
from .base import Exemplar, KeyFrame
from .embedding import global_embedding, luminance_of
from .rerank import dense_features, match_score

__all__ = ["UserReferences"]


def _origin(image: Any, i: int) -> str:
    return os.fspath(image) if isinstance(image, (str, os.PathLike)) else f"image[{i}]"


class UserReferences:
    """Exemplars from the user's images.

    Args:
        images: colour images (paths, arrays, PIL images or tensors) assigned to key frames
            automatically: the ``candidates`` most similar by global embedding (cosine of
            ``global_embedding``) are re-ranked by dense correspondence (``match_score``,
            bidirectional mean best cosine of encoder features, in [-1, 1]).
        explicit: ``{frame_index: image}``; always wins over automatic assignment.
        min_similarity: below this dense match score a key frame gets no exemplar (warned).
            Measured on the legacy films: a reference of the same scene scores about 0.7-0.8,
            an unrelated photo 0.6-0.67; unrelated synthetic textures score below 0.5.
        candidates: how many global-embedding candidates are re-ranked densely.
    """

    def __init__(
        self,
        images: Sequence[Any] = (),
        explicit: Mapping[int, Any] | None = None,
        min_similarity: float = 0.5,
        candidates: int = 3,
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

    @property
    def explicit_frames(self) -> list[int]:
        return sorted(self.explicit)

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        out = [self.explicit[f] for f in self.explicit_frames]
        todo = [k for k in keyframes if k.index not in self.explicit]
        if not self.images or not todo:
            return out
        grays = [luminance_of(im) for im in self.images]
        refs = torch.stack([global_embedding(encoder, g) for g in grays])
        dense: dict[int, torch.Tensor] = {}
        for key in todo:
            sims = refs @ global_embedding(encoder, key.gray)
            top = sims.topk(min(self.candidates, len(sims))).indices.tolist()
            query = dense_features(encoder, key.gray)
            scores = {}
            for i in top:
                if i not in dense:
                    dense[i] = dense_features(encoder, grays[i])
                scores[i] = match_score(query, dense[i])
            best = max(scores, key=scores.get)
            score = scores[best]
            if score < self.min_similarity:
                warnings.warn(
                    f"no reference matches key frame {key.index} well enough "
                    f"(best dense match {score:.2f} < {self.min_similarity}); it gets no exemplar",
                    UserWarning,
                    stacklevel=2,
                )
                continue
            out.append(Exemplar(key.index, self.images[best], "user", self.origins[best], score))
        return sorted(out, key=lambda e: e.frame)
