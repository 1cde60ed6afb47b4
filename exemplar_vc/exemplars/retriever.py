"""Exemplars retrieved from a reference bank: the best bank image for each key frame."""

from __future__ import annotations

import os
import warnings
from typing import Sequence

from ..errors import InputError
from ..modeling.encoder import LuminanceEncoder
from .bank import ReferenceBank
from .base import Exemplar, KeyFrame
from .embedding import encoder_signature

__all__ = ["Retriever"]


class Retriever:
    """An ``ExemplarSource`` backed by a ``ReferenceBank``.

    Each key frame gets the top result of ``bank.search`` (FAISS top-``k``, re-ranked by
    dense correspondence). Key frames whose best score is below ``min_score`` get no
    exemplar, with a warning. The provenance is ``source="retrieval"``,
    ``origin="bank:<id>:<path>"`` and the ranking score.

    Args:
        bank: a ``ReferenceBank`` or the folder of a saved one.
    """

    def __init__(self, bank: ReferenceBank | str | os.PathLike, k: int = 5, rerank: bool = True, min_score: float = 0.4):
        self.bank = bank if isinstance(bank, ReferenceBank) else ReferenceBank.load(bank)
        self.k, self.rerank, self.min_score = k, rerank, min_score

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        signature = encoder_signature(encoder)
        if signature != self.bank.signature:
            raise InputError(f"expected the bank's encoder ({self.bank.signature}), but the pipeline uses {signature}; rebuild the bank with this encoder")
        if not keyframes:
            return []
        results = self.bank.search([k.gray for k in keyframes], k=self.k, rerank=self.rerank)
        out = []
        for key, hits in zip(keyframes, results):
            if not hits or hits[0].score < self.min_score:
                best = f"{hits[0].score:.2f}" if hits else "none"
                warnings.warn(f"no bank image matches key frame {key.index} well enough (best score {best} < {self.min_score}); it gets no exemplar", UserWarning, stacklevel=2)
                continue
            hit = hits[0]
            out.append(Exemplar(key.index, self.bank.image(hit.entry), "retrieval", f"bank:{hit.entry.id}:{hit.path}", hit.score))
        return out
