"""Exemplars retrieved from a reference bank: the best bank image for each key frame."""

from __future__ import annotations

import os
import warnings
from typing import Sequence

from ..errors import InputError
from ..modeling.encoder import LuminanceEncoder
from ..types import Exemplar, KeyFrame
from .bank import ReferenceBank, SearchHit
from .embedding import encoder_signature

__all__ = ["Retriever", "best_matches", "DEFAULT_K", "MIN_BANK_SCORE"]

# FAISS candidates re-ranked densely per key frame: the setting of the retrieval benchmark
# (benchmarks/README.md), where re-ranking the top 5 put the right film's photo in the top 3.
DEFAULT_K = 5
# Not tuned on a bank: on the legacy films an unrelated photo scored 0.6-0.67 by dense
# match (UserReferences), so 0.4 refuses only matches far worse than an unrelated photo
# and a bank answers nearly every key frame.
MIN_BANK_SCORE = 0.4


def best_matches(bank: ReferenceBank, keyframes: Sequence[KeyFrame], k: int, rerank: bool, min_score: float, what: str) -> list[tuple[KeyFrame, SearchHit]]:
    """The top ``bank.search`` hit of each key frame; key frames whose best score is below
    ``min_score`` are left out with a ``UserWarning`` (``what`` names the bank's images)."""
    if not keyframes:
        return []
    out = []
    for key, hits in zip(keyframes, bank.search([k.gray for k in keyframes], k=k, rerank=rerank)):
        if not hits or hits[0].score < min_score:
            best = f"{hits[0].score:.2f}" if hits else "none"
            warnings.warn(f"no {what} matches key frame {key.index} well enough (best score {best} < {min_score}); it gets no exemplar", UserWarning, stacklevel=3)
            continue
        out.append((key, hits[0]))
    return out


class Retriever:
    """An ``ExemplarSource`` backed by a ``ReferenceBank``.

    Each key frame gets the top result of ``bank.search`` (FAISS top-``k``, re-ranked by
    dense correspondence). Key frames whose best score is below ``min_score`` get no
    exemplar, with a warning. The provenance is ``source="retrieval"``,
    ``origin="bank:<id>:<path>"`` and the ranking score.

    Args:
        bank: a ``ReferenceBank`` or the folder of a saved one.
    """

    def __init__(self, bank: ReferenceBank | str | os.PathLike, k: int = DEFAULT_K, rerank: bool = True, min_score: float = MIN_BANK_SCORE):
        self.bank = bank if isinstance(bank, ReferenceBank) else ReferenceBank.load(bank)
        self.k, self.rerank, self.min_score = k, rerank, min_score

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        signature = encoder_signature(encoder)
        if signature != self.bank.signature:
            raise InputError(f"expected the bank's encoder ({self.bank.signature}), but the pipeline uses {signature}; rebuild the bank with this encoder")
        return [
            Exemplar(key.index, self.bank.image(hit.entry), "retrieval", f"bank:{hit.entry.id}:{hit.path}", hit.score)
            for key, hit in best_matches(self.bank, keyframes, self.k, self.rerank, self.min_score, "bank image")
        ]
