"""Exemplars retrieved from a reference bank: the best bank image for each key frame."""

from __future__ import annotations

import os
from typing import Sequence

from ..errors import InputError
from ..modeling.encoder import LuminanceEncoder
from ..stored import as_array
from ..types import Exemplar, KeyFrame
from .assign import AssignmentRule, Decision, assign, warn_unserved
from .bank import ReferenceBank
from .embedding import encoder_signature
from .hubness import DUPLICATE_COSINE

__all__ = ["Retriever", "match_keyframes", "DEFAULT_K"]

# Candidates re-ranked densely per key frame: the setting of the retrieval benchmark
# (benchmarks/README.md, Stage 1), enough for the right shot's images and a rival.
DEFAULT_K = 5


def match_keyframes(bank: ReferenceBank, keyframes: Sequence[KeyFrame], k: int, rule: AssignmentRule, what: str, served_shots: frozenset[int] = frozenset()) -> list[Decision]:
    """Search ``bank`` for every key frame (top ``k``, re-ranked densely) and decide which
    key frames get which image (``assign.py``); one warning per shot left without any,
    except ``served_shots`` (``what`` names the bank's images in it)."""
    if not keyframes:
        return []
    hits = bank.search([as_array(k.gray) for k in keyframes], k=k, rerank=True)
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
    """

    def __init__(self, bank: ReferenceBank | str | os.PathLike, k: int = DEFAULT_K, rule: AssignmentRule | None = None, min_score: float | None = None):
        self.bank = bank if isinstance(bank, ReferenceBank) else ReferenceBank.load(bank)
        if k < 1:
            raise InputError(f"expected k >= 1, got {k}")
        rule = rule or AssignmentRule()
        if min_score is not None:
            rule = AssignmentRule(min_score, rule.margin, rule.tolerance)
        self.k, self.rule = k, rule
        self.decisions: list[Decision] = []  # of the last call, for reports

    def exemplars_for(self, keyframes: Sequence[KeyFrame], encoder: LuminanceEncoder) -> list[Exemplar]:
        signature = encoder_signature(encoder)
        if signature != self.bank.signature:
            raise InputError(f"expected the bank's encoder ({self.bank.signature}), but the pipeline uses {signature}; rebuild the bank with this encoder")
        self.decisions = match_keyframes(self.bank, keyframes, self.k, self.rule, "bank image")
        return [
            Exemplar(d.key.index, self.bank.image(d.hit.entry), "retrieval", f"bank:{d.hit.entry.id}:{d.hit.path}", d.hit.score)
            for d in self.decisions
            if d.hit is not None
        ]
