"""Exemplars retrieved from a reference bank: the best bank image for each key frame."""

from __future__ import annotations

import os
from typing import Sequence

from ..errors import InputError
from ..modeling.encoder import LuminanceEncoder
from ..stored import ArrayShelf, as_array
from ..types import Exemplar, KeyFrame
from .assign import AssignmentRule, Decision, assign, warn_unserved
from .bank import ReferenceBank
from .embedding import encoder_signature
from .hubness import DUPLICATE_COSINE

__all__ = ["Retriever", "match_keyframes", "DEFAULT_K"]

# Candidates re-ranked densely per key frame: the setting of the retrieval benchmark
# (benchmarks/README.md, Stage 1), enough for the right shot's images and a rival.
DEFAULT_K = 5
# Key frames searched per call: their gray images are read (from stage 1's shelf) only
# while their batch is searched.
SEARCH_BATCH = 64


def match_keyframes(bank: ReferenceBank, keyframes: Sequence[KeyFrame], k: int, rule: AssignmentRule, what: str, served_shots: frozenset[int] = frozenset()) -> list[Decision]:
    """Search ``bank`` for every key frame (top ``k``, re-ranked densely) and decide which
    key frames get which image (``assign.py``); one warning per shot left without any,
    except ``served_shots`` (``what`` names the bank's images in it)."""
    if not keyframes:
        return []
    hits = []
    for i in range(0, len(keyframes), SEARCH_BATCH):  # a film's key frames are not all read at once
        hits += bank.search([as_array(key.gray) for key in keyframes[i : i + SEARCH_BATCH]], k=k, rerank=True)
    decisions = assign(
        keyframes,
        hits,
        rule,
        same_picture=lambda a, b: bank.same_picture(a, b, DUPLICATE_COSINE),
        name=lambda h: os.path.basename(h.path),
    )
    warn_unserved(decisions, what, served_shots, stacklevel=4)
    return decisions


class Retriever:
    """An ``ExemplarSource`` backed by a ``ReferenceBank``.

    Each key frame gets the top result of ``bank.search`` (content descriptor top-``k``,
    re-ranked by dense correspondence) when the assignment rule trusts it (``assign.py``:
    good enough, clearly the best different image, not a better fit for another shot);
    other key frames get no exemplar, with one warning per shot left without any. The
    provenance is ``source="retrieval"``, ``origin="bank:<id>:<path>"`` and the dense score,
    on the same scale as ``UserReferences`` scores.

    Args:
        bank: a ``ReferenceBank`` or the folder of a saved one.
        rule: the assignment thresholds (``AssignmentRule``; ``min_score`` alone can be
            given as ``min_score=``).
        images_in_memory: retrieved images kept in memory; the rest wait on disk until
            stage 2 reads them (``stored.ArrayShelf``). None: all in memory.
    """

    def __init__(
        self,
        bank: ReferenceBank | str | os.PathLike,
        k: int = DEFAULT_K,
        rule: AssignmentRule | None = None,
        min_score: float | None = None,
        images_in_memory: int | None = 32,
    ):
        self.bank = bank if isinstance(bank, ReferenceBank) else ReferenceBank.load(bank)
        if k < 1:
            raise InputError(f"expected k >= 1, got {k}")
        rule = rule or AssignmentRule()
        if min_score is not None:
            rule = AssignmentRule(min_score, rule.margin, rule.tolerance)
        self.k, self.rule = k, rule
        self.images_in_memory = images_in_memory
        self.decisions: list[Decision] = []  # of the last call, for reports

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        signature = encoder_signature(encoder)
        if signature != self.bank.signature:
            raise InputError(f"expected the bank's encoder ({self.bank.signature}), but the pipeline uses {signature}; rebuild the bank with this encoder")
        self.decisions = match_keyframes(self.bank, keyframes, self.k, self.rule, "bank image")
        shelf = ArrayShelf(self.images_in_memory)
        return [
            Exemplar(d.key.index, shelf.put(self.bank.image(d.hit.entry)), "retrieval", f"bank:{d.hit.entry.id}:{d.hit.path}", d.hit.score)
            for d in self.decisions
            if d.hit is not None
        ]
